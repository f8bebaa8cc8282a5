"""C4's cleaning and rules (Raffel et al. 2020, sec. 2.2), in the order of its reference code
(TensorFlow Datasets' c4_utils, which datatrove's C4QualityFilter follows).

Line rules drop lines; document rules drop the document. The cleaning runs in one pass that
also measures everything the document rules need, so the gate never re-reads the text.
"""

import re
from dataclasses import dataclass

from pipeline.records import Reason
from pipeline.settings import check
from pipeline.text.punctuation import SENTENCE_TERMINALS
from pipeline.text.quality.rules import Bound, Rule
from pipeline.text.quality.view import TextView
from pipeline.text.words import TOKEN_PATTERN


@dataclass(frozen=True, kw_only=True)
class C4Config:
    """C4 (Raffel et al. 2020, sec. 2.2), as its reference code (TFDS c4_utils) applies it."""

    clean_lines: bool = True  # rewrite the text to the kept lines; false: only measure and gate
    min_words_per_line: int = 3  # shorter lines are dropped
    max_word_length: int = 1000  # lines with a longer word are dropped
    # Keep only lines ending in . ? ! " ' (not "..."): C4's rule, true in the paper. Off here, as
    # FineWeb ran its C4 step (filter_no_terminal_punct=False, Penedo et al. 2024): on hard-wrapped
    # text (mail, plain-text docs, most of the sample's web pages) it deletes every line that
    # ends mid-sentence and keeps incoherent fragments; FineWeb's own line-punctuation ratio
    # takes its place in our web chain.
    drop_lines_without_terminal_punct: bool = False
    drop_javascript_lines: bool = True
    drop_policy_lines: bool = True  # cookie / terms-of-use / privacy-policy boilerplate
    remove_citations: bool = True  # "[1]", "[edit]", "[citation needed]"
    min_sentences: int | None = 5  # after cleaning
    forbid_lorem_ipsum: bool = True
    forbid_curly_bracket: bool = True

    def __post_init__(self):
        check(self.min_words_per_line >= 0, "quality.c4.min_words_per_line", "must be >= 0")
        check(self.max_word_length >= 1, "quality.c4.max_word_length", "must be >= 1")
        check(self.min_sentences is None or self.min_sentences >= 0, "quality.c4.min_sentences", "must be >= 0")


STAGE_ID = "quality.c4.v1"
END_PUNCTUATION = (".", "?", "!", '"', "'")
_CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
POLICY_PHRASES = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
_POLICY = re.compile("|".join(map(re.escape, POLICY_PHRASES)))


class C4Reason(Reason):
    LOREM_IPSUM = "c4_lorem_ipsum"
    CURLY_BRACKET = "c4_curly_bracket"
    TOO_FEW_SENTENCES = "c4_too_few_sentences"


RULES = [
    Rule("lorem_ipsum", "forbid_lorem_ipsum", Bound.FORBID, C4Reason.LOREM_IPSUM),
    Rule("curly_bracket", "forbid_curly_bracket", Bound.FORBID, C4Reason.CURLY_BRACKET),
    Rule("sentences", "min_sentences", Bound.MIN, C4Reason.TOO_FEW_SENTENCES),
]


# Sentences are counted over the cleaned text's tokens joined by "\0", with each line break kept as
# a "\n" token that no match crosses: a token with sentence-final punctuation (not an ellipsis
# run), any other punctuation tokens, then the first character of a word token. Each match is
# one more sentence in its line, as spaCy's sentencizer splits them; the regex does in C what a
# loop over tokens would do in Python.
_TOKENS_AND_BREAKS = re.compile(f"\n|{TOKEN_PATTERN}")
_TERMINALS = re.escape("".join(sorted(SENTENCE_TERMINALS)))
_NEW_SENTENCE = re.compile(rf"(?:^|\0)(?!\.\.)[^\w\0\n]*[{_TERMINALS}][^\w\0\n]*(?:\0[^\w\0\n]+)*\0\w")


def count_sentences(text: str) -> tuple[int, int]:
    """(sentences, tokens) of text whose lines are all non-empty; a line holds at least one."""
    tokens = _TOKENS_AND_BREAKS.findall(text)
    lines = text.count("\n") + 1
    return lines + len(_NEW_SENTENCE.findall("\0".join(tokens))), len(tokens) - (lines - 1)


def clean(view: TextView, cfg: C4Config) -> tuple[str, dict[str, float]]:
    """(text of the kept lines, signals). CJK text has no C4 definition (its lines have no
    spaces to count words by, and end in other punctuation): empty signals, text unchanged."""
    cleaned, signals, _ = clean_and_count(view, cfg)
    return cleaned, signals


def clean_and_count(view: TextView, cfg: C4Config) -> tuple[str, dict[str, float], int | None]:
    """clean() and the token count of the cleaned text (None when it was not cleaned), which
    FineWeb's list ratio needs and would otherwise tokenize the text again for."""
    if view.cjk:
        return view.text, {}, None
    kept: list[str] = []
    lorem = curly = 0
    for raw in view.lines:
        line = raw.strip()
        # The line rules only ever drop a line, so the cheap ones go first; lorem ipsum and "{"
        # are noted only on lines that pass every rule before them, as in C4's reference code.
        if cfg.remove_citations and "[" in line:
            line = _CITATION.sub("", line)
        if cfg.drop_lines_without_terminal_punct and (not line.endswith(END_PUNCTUATION) or line.endswith("...")):
            continue
        words = raw.split()  # before citation removal, as the reference counts them
        if len(words) < cfg.min_words_per_line:
            continue
        if len(raw) > cfg.max_word_length and any(len(w) > cfg.max_word_length for w in words):
            continue
        lower = line.lower()
        if "lorem ipsum" in lower:
            lorem = 1
        if cfg.drop_javascript_lines and "javascript" in lower:
            continue
        if "{" in line:
            curly = 1
        if cfg.drop_policy_lines and _POLICY.search(lower):
            continue
        kept.append(line)
    cleaned = "\n".join(kept)  # kept lines are stripped and non-empty
    sentences, n_tokens = count_sentences(cleaned) if kept else (0, 0)
    return (
        cleaned,
        {
            "sentences": float(sentences),
            "lorem_ipsum": float(lorem),
            "curly_bracket": float(curly),
            "lines_removed": float(len(view.lines) - len(kept)),
            "chars_removed": float(len(view.text) - len(cleaned)),
        },
        n_tokens,
    )
