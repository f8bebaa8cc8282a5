"""Repeated-paragraph (boilerplate) removal in the style of CCNet (Wenzek et al. 2020, "CCNet:
Extracting High Quality Monolingual Datasets from Web Crawl Data", section 3.2).

A paragraph is a line of the text, as in CCNet: web extractions put menus, footers and cookie
notices on lines of their own, and the same line on many pages is boilerplate. Each line is hashed
after a normalisation close to CCNet's normalize_for_dedup (lower case, digits to 0, punctuation
removed) so that "Copyright 2021 ACME" and "copyright 2023 acme." are one paragraph. One pass
counts, for every hash, how many documents contain it (paragraph_hashes gives each hash once per
document); a second pass drops the lines whose hash is frequent (remove_paragraphs).

Hashes are blake2b with an 8-byte digest, so they agree across processes and machines (Python's
hash() of a str is salted per process).
"""

import functools
import hashlib
import re
import unicodedata

from pipeline.text import unicode_categories

_DIGIT = re.compile(r"\d")  # any Unicode decimal digit (Nd), as CCNet's DIGIT_RE


@functools.cache
def _removed_chars() -> re.Pattern[str]:
    """Every punctuation (P*), symbol (S*) and invisible format (Cf) character.

    Built from Unicode categories, not from `[^\\w\\s]`: that class would also strip combining
    marks (Mn, Mc), which carry the vowels of Devanagari, Thai and other scripts, and merge
    different lines. Symbols go too ("©", "|", "»", "→" decorate menus and footers), and format
    characters (soft hyphen, zero-width space, BOM) are invisible differences. Built on first use
    and kept.
    """
    ranges = unicode_categories.runs(unicode_categories.code_points(lambda cat: cat[0] in "PS" or cat == "Cf"))
    body = "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)
    return re.compile(f"[{body}]+")


def normalize_line(line: str) -> str:
    """NFC, case folded, digits to 0, punctuation/symbols removed, whitespace collapsed."""
    line = unicodedata.normalize("NFC", line).casefold()
    line = _DIGIT.sub("0", line)  # years, counters, dates change from page to page
    line = _removed_chars().sub("", line)  # removed, not spaced: CCNet deletes them too
    return " ".join(line.split())


def _hash(normalized: str) -> int:
    return int.from_bytes(hashlib.blake2b(normalized.encode("utf-8"), digest_size=8).digest(), "little")


def line_hash(line: str) -> int | None:
    """The 64-bit paragraph hash of one line, or None when it normalises to nothing."""
    normalized = normalize_line(line)
    return _hash(normalized) if normalized else None


def paragraph_hashes(text: str) -> list[int]:
    """The distinct paragraph hashes of a document, sorted.

    Each hash appears once however often its line repeats in the document, so counting them over
    the corpus gives the number of documents that contain the paragraph. Lines that normalise to
    nothing (blank, only punctuation) are not paragraphs.
    """
    hashes = {line_hash(line) for line in text.split("\n")}
    hashes.discard(None)
    return sorted(hashes)


def remove_paragraphs(text: str, drop: set[int] | frozenset[int]) -> tuple[str, int, int]:
    """(text without the lines whose hash is in `drop`, lines removed, characters removed).

    A removed line goes with its own line break (the "\\n" after it; the last line has none, so
    the break before it stays). Every kept line keeps its exact bytes and its own break, so blank
    lines, "\\r" and indentation around kept paragraphs are untouched, and a text with no dropped
    line comes back identical.
    """
    if not drop:
        return text, 0, 0
    lines = text.split("\n")
    last = len(lines) - 1
    kept: list[str] = []
    removed_lines = removed_chars = 0
    for i, line in enumerate(lines):
        piece = line if i == last else line + "\n"
        h = line_hash(line)
        if h is not None and h in drop:
            removed_lines += 1
            removed_chars += len(piece)
        else:
            kept.append(piece)
    if not removed_lines:
        return text, 0, 0
    return "".join(kept), removed_lines, removed_chars
