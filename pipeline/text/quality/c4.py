"""C4's cleaning and rules (Raffel et al. 2020, sec. 2.2), in the order of its reference code
(TensorFlow Datasets' c4_utils, which datatrove's C4QualityFilter follows).

Line rules drop lines; document rules drop the document. The cleaning runs in one pass that
also measures everything the document rules need, so the gate never re-reads the text.
"""

import re

from pipeline.config import C4Config
from pipeline.records import Reason
from pipeline.text.punctuation import SENTENCE_TERMINALS
from pipeline.text.quality.rules import Bound, Rule
from pipeline.text.quality.view import TextView
from pipeline.text.words import is_word, tokenize

STAGE_ID = "quality.c4.v1"
END_PUNCTUATION = (".", "?", "!", '"', "'")
_CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
POLICY_PHRASES = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")


class C4Reason(Reason):
    LOREM_IPSUM = "c4_lorem_ipsum"
    CURLY_BRACKET = "c4_curly_bracket"
    TOO_FEW_SENTENCES = "c4_too_few_sentences"


RULES = [
    Rule("lorem_ipsum", "forbid_lorem_ipsum", Bound.FORBID, C4Reason.LOREM_IPSUM),
    Rule("curly_bracket", "forbid_curly_bracket", Bound.FORBID, C4Reason.CURLY_BRACKET),
    Rule("sentences", "min_sentences", Bound.MIN, C4Reason.TOO_FEW_SENTENCES),
]


def count_sentences(line: str) -> int:
    """Sentences as spaCy's sentencizer splits them: a new one starts at a word that follows
    sentence-final punctuation ("..." does not end a sentence)."""
    count, after_terminal = 1, False
    for token in tokenize(line):
        if is_word(token):
            if after_terminal:
                count += 1
                after_terminal = False
        elif not token.startswith("..") and any(c in SENTENCE_TERMINALS for c in token):
            after_terminal = True
    return count


def clean(view: TextView, cfg: C4Config) -> tuple[str, dict[str, float]]:
    """(text of the kept lines, signals). CJK text has no C4 definition (its lines have no
    spaces to count words by, and end in other punctuation): empty signals, text unchanged."""
    if view.cjk:
        return view.text, {}
    kept: list[str] = []
    lorem = curly = 0
    sentences = 0
    for raw in view.lines:
        line = raw.strip()
        words = line.split()
        if len(line) > cfg.max_word_length and any(len(w) > cfg.max_word_length for w in words):  # no long word in a short line
            continue
        if cfg.remove_citations:
            line = _CITATION.sub("", line)
        if cfg.drop_lines_without_terminal_punct and (not line.endswith(END_PUNCTUATION) or line.endswith("...")):
            continue
        if len(words) < cfg.min_words_per_line:
            continue
        lower = line.lower()
        if "lorem ipsum" in lower:
            lorem = 1
        if cfg.drop_javascript_lines and "javascript" in lower:
            continue
        if "{" in line:
            curly = 1
        if cfg.drop_policy_lines and any(p in lower for p in POLICY_PHRASES):
            continue
        sentences += count_sentences(line)
        kept.append(line)
    cleaned = "\n".join(kept).strip()
    return cleaned, {
        "sentences": float(sentences),
        "lorem_ipsum": float(lorem),
        "curly_bracket": float(curly),
        "lines_removed": float(len(view.lines) - len(kept)),
        "chars_removed": float(len(view.text) - len(cleaned)),
    }
