"""Gopher quality rules (Rae et al. 2021, "Scaling Language Models", A.1.1 MassiveWeb)."""

import re
from dataclasses import dataclass

from pipeline.records import Reason
from pipeline.settings import check
from pipeline.text.quality.rules import Bound, Rule
from pipeline.text.quality.view import TextView
from pipeline.text.stopwords import STOP_WORDS


@dataclass(frozen=True, kw_only=True)
class GopherQualityConfig:
    """Gopher quality filter (Rae et al. 2021, MassiveText, sec. A.1.1). null switches a rule off."""

    min_words: int | None = 50  # non-symbol words
    max_words: int | None = 100_000
    min_mean_word_length: float | None = 3.0
    max_mean_word_length: float | None = 10.0
    max_hash_ratio: float | None = 0.1  # "#" per word
    max_ellipsis_ratio: float | None = 0.1  # "..." or "…" per word
    max_bullet_lines: float | None = 0.9  # share of lines starting with a bullet
    max_end_ellipsis_lines: float | None = 0.3  # share of lines ending with an ellipsis
    min_alpha_words: float | None = 0.8  # share of words with an alphabetic character
    min_stop_words: int | None = 2  # distinct stop words of the document's language present

    def __post_init__(self):
        for key in ("max_hash_ratio", "max_ellipsis_ratio", "max_bullet_lines", "max_end_ellipsis_lines", "min_alpha_words"):
            value = getattr(self, key)
            check(value is None or 0.0 <= value <= 1.0, f"quality.gopher_quality.{key}", f"must be in [0, 1], got {value}")
        for key in ("min_words", "max_words", "min_mean_word_length", "max_mean_word_length", "min_stop_words"):
            value = getattr(self, key)
            check(value is None or value >= 0, f"quality.gopher_quality.{key}", f"must be >= 0, got {value}")


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
