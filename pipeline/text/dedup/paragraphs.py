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
from dataclasses import dataclass, field

from pipeline.settings import check
from pipeline.text import unicode_categories


@dataclass(frozen=True, kw_only=True)
class ParagraphDedupConfig:
    # CCNet removes a line seen anywhere before; a line in more than max_docs documents is
    # boilerplate here, so a quote shared by two pages survives but a site's footer does not.
    max_docs: int = 10
    min_chars_left: int = 100  # a document shorter than this after removal is rejected
    # Crawled pages carry site boilerplate; in code ("import os"), man pages ("SYNOPSIS") and
    # books the repeated lines are content. Empty: every source.
    sources: list[str] = field(default_factory=lambda: ["web"])

    def __post_init__(self):
        check(self.max_docs >= 1, "dedup.paragraphs.max_docs", "must be >= 1")
        check(self.min_chars_left >= 0, "dedup.paragraphs.min_chars_left", "must be >= 0")


_DIGIT = re.compile(r"\d")  # any Unicode decimal digit (Nd), as CCNet's DIGIT_RE


@functools.cache
def _removed_chars() -> dict[int, None]:
    """Every punctuation (P*), symbol (S*) and invisible format (Cf) character, as a str.translate
    table that deletes them (a regex class of these ~8,700 code points ran ~5x slower).

    Built from Unicode categories, not from `[^\\w\\s]`: that class would also strip combining
    marks (Mn, Mc), which carry the vowels of Devanagari, Thai and other scripts, and merge
    different lines. Symbols go too ("©", "|", "»", "→" decorate menus and footers), and format
    characters (soft hyphen, zero-width space, BOM) are invisible differences. Built on first use
    and kept.
    """
    return dict.fromkeys(unicode_categories.code_points(lambda cat: cat[0] in "PS" or cat == "Cf").tolist())


def normalize_line(line: str) -> str:
    """NFC, case folded, digits to 0, punctuation/symbols removed, whitespace collapsed."""
    line = unicodedata.normalize("NFC", line).casefold()
    line = _DIGIT.sub("0", line)  # years, counters, dates change from page to page
    line = line.translate(_removed_chars())  # removed, not spaced: CCNet deletes them too
    return " ".join(line.split())


def _hash(normalized: str) -> int:
    return int.from_bytes(hashlib.blake2b(normalized.encode("utf-8"), digest_size=8).digest(), "little")


def line_hash(line: str) -> int | None:
    """The 64-bit paragraph hash of one line, or None when it normalises to nothing."""
    normalized = normalize_line(line)
    return _hash(normalized) if normalized else None


def line_hashes(text: str) -> list[int | None]:
    """line_hash of every line of text.split("\\n"), in order, normalising the whole text at once:
    each step of normalize_line maps characters independently of the line they are on (NFC never
    composes or reorders across a line break, a starter; case folding, the digit and the removed
    characters are per character; none makes or drops a "\\n"), so the text's normalised lines
    are its lines' normalised forms, at one C call per step instead of one per line."""
    text = unicodedata.normalize("NFC", text).casefold()
    text = _DIGIT.sub("0", text).translate(_removed_chars())
    return [_hash(n) if (n := " ".join(line.split())) else None for line in text.split("\n")]


def paragraph_hashes(text: str) -> list[int]:
    """The distinct paragraph hashes of a document, sorted.

    Each hash appears once however often its line repeats in the document, so counting them over
    the corpus gives the number of documents that contain the paragraph. Lines that normalise to
    nothing (blank, only punctuation) are not paragraphs.
    """
    hashes = set(line_hashes(text))
    hashes.discard(None)
    return sorted(hashes)


def remove_paragraphs(text: str, drop: set[int] | frozenset[int], hashes: list[int | None] | None = None) -> tuple[str, int, int]:
    """(text without the lines whose hash is in `drop`, lines removed, characters removed);
    `hashes`: line_hashes(text) when the caller has them.

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
    for i, (line, h) in enumerate(zip(lines, hashes if hashes is not None else line_hashes(text))):
        piece = line if i == last else line + "\n"
        if h is not None and h in drop:
            removed_lines += 1
            removed_chars += len(piece)
        else:
            kept.append(piece)
    if not removed_lines:
        return text, 0, 0
    return "".join(kept), removed_lines, removed_chars
