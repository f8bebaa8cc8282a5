"""The text normalization used both to train the language models and to score documents with
them: a model only knows the tokens it was trained on, so the two must go through exactly this
function.

Per line, as CCNet does (Wenzek et al. 2020, cc_net/text_normalizer.py): lowercase, accents
removed (NFD, combining marks dropped), every digit to 0, control characters removed. CCNet then
maps Unicode punctuation to ASCII and cuts lines into SentencePiece pieces; our models use word
tokens instead, and there punctuation is removed (every punctuation character becomes a space;
CCNet's `punct=2` removes only its Unicode table). Kept as tokens, punctuation is the most
predictable part of technical text and code, and pulls them below novels: with an English
5-gram (pruned 0 0 1) on our Wikipedia leads, median perplexities of
held-out Wikipedia / novels / technical docs / code / German were 180 / 1,615 / 1,436 / 5,041 /
3,933 with punctuation split off as tokens, 526 / 3,259 / 7,967 / 10,785 / 71,069 left attached
to words, and 316 / 2,031 / 3,438 / 6,735 / 35,756 removed (pipeline/lm/default_models.py).
Whitespace is collapsed to single ASCII spaces, so that KenLM's `query` tool (which splits on
ASCII whitespace only) and `kenlm.Model.score` (Python's str.split) see the same tokens.

Speed: normalization runs on every character of every document, next to KenLM lookups that
cost about 20 ns per character, so it is kept in C: ASCII text takes one str.translate (CPython's
ASCII fast path); other text has its ASCII bytes mapped by bytes.translate, and only its
non-ASCII runs are decomposed (NFD) and go through the full table (a decomposition is per
character, and combining marks are never ASCII, so this equals decomposing the whole text).
Lines are only split, never rebuilt, on the scoring path (normalize_text).
"""

import re
import string
import unicodedata

from pipeline.text import unicode_categories

# Every character str.splitlines() breaks at: each becomes "\n", so lines are str.splitlines()'s.
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _tables() -> tuple[dict[int, str | None], dict[int, str | None]]:
    """(table for ASCII characters, table for any character); built once at import."""
    ascii_table: dict[int, str | None] = {ord(c): " " for c in string.punctuation}
    ascii_table.update({ord(d): "0" for d in string.digits})
    for code in list(range(0, 32)) + [127]:
        c = chr(code)
        ascii_table[code] = "\n" if c in _LINE_BREAKS else " " if c == "\t" else None
    full = dict(ascii_table)
    # Disjoint categories, so the order only matters for the line breaks, which win.
    for wanted, value in (
        (lambda cat: cat in ("Mn", "Cc", "Cf"), None),  # combining marks (an accent after NFD), controls, zero-width and bidi marks
        (lambda cat: cat == "Nd", "0"),
        (lambda cat: cat[0] in "PZ", " "),
    ):
        full.update(dict.fromkeys(unicode_categories.code_points(wanted, lo=128).tolist(), value))
    full.update({ord(c): "\n" for c in _LINE_BREAKS if ord(c) >= 128})
    return ascii_table, full


_ASCII_TABLE, _FULL_TABLE = _tables()
_ASCII_BYTES = bytes(ord(v) if (v := _ASCII_TABLE.get(b, chr(b))) else b for b in range(256))
_ASCII_DELETE = bytes(b for b in range(128) if _ASCII_TABLE.get(b, "") is None)
_NON_ASCII_RUN = re.compile("[^\x00-\x7f]+")


def _full_translate(match: re.Match) -> str:
    return unicodedata.normalize("NFD", match.group()).translate(_FULL_TABLE)


def normalize_text(text: str) -> str:
    """The whole document normalized; lines separated by "\n", possibly blank, spacing not
    collapsed (KenLM splits on whitespace itself). The scoring path."""
    text = text.lower()
    if text.isascii():
        return text.translate(_ASCII_TABLE)
    text = text.encode("utf-8").translate(_ASCII_BYTES, _ASCII_DELETE).decode("utf-8")
    return _NON_ASCII_RUN.sub(_full_translate, text)


def normalize_lines(text: str) -> list[str]:
    """A document's non-blank lines, normalized, tokens joined by single spaces (what training
    writes and `query` reads). Blank lines are left out: CCNet scores each as a lone end of
    sentence, a probability that says nothing about the text."""
    return [" ".join(line.split()) for line in normalize_text(text).split("\n") if line and not line.isspace()]


def normalize_line(line: str) -> str:
    """One line normalized; "" for a blank one."""
    return " ".join(normalize_text(line).split())
