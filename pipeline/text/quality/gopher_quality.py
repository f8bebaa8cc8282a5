"""Gopher quality rules (Rae et al. 2021, "Scaling Language Models", A.1.1 MassiveWeb)."""

import re

from pipeline.records import Reason
from pipeline.text.quality.rules import Bound, Rule
from pipeline.text.quality.view import TextView
from pipeline.text.stopwords import STOP_WORDS

STAGE_ID = "quality.gopher_quality.v1"
BULLETS = ("•", "-", "*", "‣", "◦", "▪", "●")  # datatrove checks "•" and "-" only
_ALPHA_LINE = re.compile(r"^[^\n]*?[^\W\d_]", re.M)  # a line holding a letter


class GopherQualityReason(Reason):
    TOO_FEW_WORDS = "gopher_too_few_words"
    TOO_MANY_WORDS = "gopher_too_many_words"
    MEAN_WORD_LENGTH_LOW = "gopher_mean_word_length_low"
    MEAN_WORD_LENGTH_HIGH = "gopher_mean_word_length_high"
    TOO_MANY_HASHES = "gopher_too_many_hashes"
    TOO_MANY_ELLIPSES = "gopher_too_many_ellipses"
    TOO_MANY_BULLET_LINES = "gopher_too_many_bullet_lines"
    TOO_MANY_ELLIPSIS_LINES = "gopher_too_many_ellipsis_lines"
    TOO_FEW_ALPHA_WORDS = "gopher_too_few_alpha_words"
    TOO_FEW_STOP_WORDS = "gopher_too_few_stop_words"


R = GopherQualityReason
RULES = [
    Rule("word_count", "min_words", Bound.MIN, R.TOO_FEW_WORDS),
    Rule("word_count", "max_words", Bound.MAX, R.TOO_MANY_WORDS),
    Rule("mean_word_length", "min_mean_word_length", Bound.MIN, R.MEAN_WORD_LENGTH_LOW),
    Rule("mean_word_length", "max_mean_word_length", Bound.MAX, R.MEAN_WORD_LENGTH_HIGH),
    Rule("hash_ratio", "max_hash_ratio", Bound.MAX, R.TOO_MANY_HASHES),
    Rule("ellipsis_ratio", "max_ellipsis_ratio", Bound.MAX, R.TOO_MANY_ELLIPSES),
    Rule("bullet_lines", "max_bullet_lines", Bound.MAX, R.TOO_MANY_BULLET_LINES),
    Rule("end_ellipsis_lines", "max_end_ellipsis_lines", Bound.MAX, R.TOO_MANY_ELLIPSIS_LINES),
    Rule("alpha_words", "min_alpha_words", Bound.MIN, R.TOO_FEW_ALPHA_WORDS),
    Rule("stop_words", "min_stop_words", Bound.MIN, R.TOO_FEW_STOP_WORDS),
]


def signals(view: TextView) -> dict[str, float]:
    text, lines = view.text, view.lines
    n_tokens = max(len(view.tokens), 1)
    n_lines = max(len(lines), 1)
    n_words, word_chars = view.word_count_and_chars
    # Punctuation tokens hold no letter and are no stop word, so both are counted over all
    # tokens (one per line of view.joined_tokens) by C regex and set code.
    out = {
        "word_count": float(n_words),
        "hash_ratio": text.count("#") / n_tokens,
        "ellipsis_ratio": (text.count("...") + text.count("…")) / n_tokens,
        "bullet_lines": sum(1 for line in lines if line.lstrip().startswith(BULLETS)) / n_lines,
        "end_ellipsis_lines": sum(1 for line in lines if line.rstrip().endswith(("...", "…"))) / n_lines,
        "alpha_words": len(_ALPHA_LINE.findall(view.joined_tokens)) / n_tokens,
    }
    # A CJK "word" is one character, so a mean word length of 3..10 has no meaning there.
    if not view.cjk:
        out["mean_word_length"] = word_chars / n_words if n_words else 0.0
    stop_words = STOP_WORDS.get(view.lang)
    if stop_words is not None:
        out["stop_words"] = float(len(stop_words.intersection(view.joined_tokens.lower().split("\n"))))
    return out
