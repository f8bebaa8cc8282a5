"""The text normalization used both to train the language models and to score documents with
them: a model only knows the tokens it was trained on, so the two must go through exactly this
function.

Per line, as CCNet does (Wenzek et al. 2020, cc_net/text_normalizer.py): lowercase, accents
removed (NFD, combining marks dropped), every digit to 0, control characters removed. CCNet then
maps Unicode punctuation to ASCII and cuts lines into SentencePiece pieces; our models use word
tokens instead, and there punctuation is removed (every punctuation character becomes a space,
CCNet's `punct=2`). Kept as tokens, punctuation is the most predictable part of technical text
and code, and pulls them below novels: with the shipped 5-gram, median perplexities of
held-out Wikipedia / novels / technical docs / code / German were 180 / 1,615 / 1,436 / 5,041 /
3,933 with punctuation split off as tokens, 526 / 3,259 / 7,967 / 10,785 / 71,069 left attached
to words, and 316 / 2,031 / 3,438 / 6,735 / 35,756 removed (pipeline/lm/default_models.py).
Whitespace is collapsed to single ASCII spaces, so that KenLM's `query` tool (which splits on
ASCII whitespace only) and `kenlm.Model.score` (Python's str.split) see the same tokens.

Everything is str.translate / str.lower / unicodedata in C: normalization runs on every word of
every document, next to a KenLM lookup that costs about a microsecond per word.
"""

import string
import sys
import unicodedata


def _tables() -> tuple[dict[int, str | None], dict[int, str | None]]:
    """(table for ASCII lines, table for any line); built once at import, ~0.2 s."""
    ascii_table: dict[int, str | None] = {ord(c): " " for c in string.punctuation}
    ascii_table.update({ord(d): "0" for d in string.digits})
    for code in list(range(0, 32)) + [127]:
        ascii_table[code] = " " if chr(code) in "\t\n\r\x0b\x0c" else None
    full = dict(ascii_table)
    for code in range(128, sys.maxunicode + 1):
        category = unicodedata.category(chr(code))
        if category == "Mn":  # combining marks: what is left of an accent after NFD
            full[code] = None
        elif category == "Nd":
            full[code] = "0"
        elif category.startswith("P") or category.startswith("Z") or code == 0x85:
            full[code] = " "
        elif category in ("Cc", "Cf"):  # controls, zero-width and bidi marks
            full[code] = None
    return ascii_table, full


_ASCII_TABLE, _FULL_TABLE = _tables()


def normalize_line(line: str) -> str:
    """One line, normalized and tokenized: tokens joined by single spaces, "" for a blank line."""
    line = line.lower()
    if line.isascii():
        return " ".join(line.translate(_ASCII_TABLE).split())
    return " ".join(unicodedata.normalize("NFD", line).translate(_FULL_TABLE).split())


def normalize_lines(text: str) -> list[str]:
    """A document's non-blank lines, normalized. Blank lines are left out: CCNet scores each as a
    lone end-of-sentence, a probability that says nothing about the text."""
    out = []
    for line in text.splitlines():
        normalized = normalize_line(line)
        if normalized:
            out.append(normalized)
    return out
