"""Exact-substring deduplication (Lee et al. 2022) without a suffix array: word k-grams found by
winnowed fingerprints, then checked k-gram by k-gram. Pure numpy, no Beam (the stage is
pipeline.stages.substring_dedup; this module is also the benchmark's core).

Units. A document is a sequence of words: the `\\w+` runs of its text (punctuation and spacing
between words are ignored when comparing). k = min_tokens words. Lee et al. cut spans of 50 GPT-2
tokens; on the sample's English prose (books, wiki) GPT-2's tokenizer gives 1.47 tokens per such
word, so the default k is 34 words (code and other scripts have more tokens per word).

What is removed. A k-gram (k consecutive words) at (document id, word position) is a *later copy*
when the same k words occur at a smaller (id, position) anywhere in the corpus. The words covered
by later copies are removed. So every span of >= k words that occurs more than once is kept at its
first occurrence (smallest id, then position) and cut from every other one, and a span seen once
is never touched. Cuts fall on word boundaries: a run of removed words i..j-1 takes the characters
from word i's first character to word j's first (to the end of the text after the last word).

How it is found, distributed (the stage runs these steps as Beam shuffles):
  1. Fingerprints: each document's g-gram hashes (g = fingerprint_words consecutive words),
     winnowed (Schleimer et al. 2003) with window w = k - g + 1: a position is selected when its
     hash is the minimum of some window of w consecutive g-grams. About 2/(w+1) positions per word.
     Each batch of documents sends one (fingerprint, places in the batch) per distinct value;
     summed per fingerprint, those held at two or more places are *candidates*. The candidates
     are gathered into one sorted uint64 array (candidate_set), given to every worker.
  2. Each document is hashed again against that array (batch_candidate_kgrams): a k-gram whose
     minimum g-gram hash is a candidate v goes into v's record for this document, the starts and
     hashes of those k-grams (packed arrays: ~12 bytes a k-gram, not a shuffled element each).
     No winnowing is needed here: a k-gram's minimum is selected in every copy, so it is a
     candidate iff it collided in step 1. A document with no such k-gram cannot be cut and goes
     no further. GroupByKey(v) -> for each k-gram hash in the group, every occurrence but the
     smallest (id, position) is a later copy; the later copies go back to their documents, which
     cut them. (A value held by more than group_limit records is regrouped by k-gram hash
     instead, so no worker holds more than group_limit records' k-grams.)
Guarantee. A k-gram spans exactly w g-grams; wherever it occurs, the minimum of those w hashes is
the same value and is selected in every copy (winnow keeps every minimum of every window), so the
fingerprint collides and every occurrence of a repeated k-gram is in the same group of step 2,
which then decides exactly. The result equals the
suffix-array answer up to 64-bit hash collisions (probability ~ pairs / 2^64). Limits: equality is of
word sequences, not bytes (case is kept, punctuation between words is not compared); a document
shorter than k words holds no k-gram; the first copy is chosen among the stage's input, so if the
document holding it is later rejected (too much of it removed) that text survives nowhere.

Hashes are polynomial over 64-bit word hashes (minhash.unit_hashes), then mixed: a pure function of
the text, the same on every worker (no salted hash()).
"""

import functools
import re
from dataclasses import dataclass

import numpy as np

from pipeline.settings import check
from pipeline.text.dedup.minhash import PASS_ENTRIES, mix64, power_tables, unit_hashes, word_hashes


@dataclass(frozen=True, kw_only=True)
class SubstringDedupConfig:
    """Exact-substring dedup (Lee et al. 2022; pipeline.text.dedup.substring): spans of
    min_tokens or more words seen twice are kept at their first occurrence, cut elsewhere."""

    # Words (\w+ runs). Lee et al.: 50 GPT-2 tokens; GPT-2 gives 1.47 tokens per word on the
    # sample's English prose (books, wiki), so 34 words.
    min_tokens: int = 34
    # Winnowed fingerprints are hashes of this many words; the window is min_tokens - this + 1
    # g-grams, so about 2 / (min_tokens - this + 2) fingerprints per word are shuffled (7%).
    fingerprint_words: int = 8
    min_chars_left: int = 100  # shorter than this after the cuts: rejected (substring_duplicate)
    max_removed_fraction: float = 0.5  # more than this share of the characters cut: rejected
    batch_size: int = 256  # documents hashed per numpy batch
    # Documents' k-gram records grouped in memory per fingerprint (~27 k-grams, 12 bytes each, a
    # record); a fingerprint held by more is regrouped by k-gram hash, one shuffled element each.
    group_limit: int = 10_000

    def __post_init__(self):
        check(self.group_limit >= 1, "dedup.substring.group_limit", "must be >= 1")
        check(2 <= self.min_tokens <= 10_000, "dedup.substring.min_tokens", "must be in [2, 10000]")
        check(
            1 <= self.fingerprint_words <= self.min_tokens,
            "dedup.substring.fingerprint_words",
            f"must be in [1, min_tokens ({self.min_tokens})]",
        )
        check(self.min_chars_left >= 0, "dedup.substring.min_chars_left", "must be >= 0")
        check(0.0 < self.max_removed_fraction <= 1.0, "dedup.substring.max_removed_fraction", "must be in (0, 1]")
        check(1 <= self.batch_size <= 100_000, "dedup.substring.batch_size", "must be in [1, 100000]")


_WORD = re.compile(r"\w+")


def words(text: str, lowercase: bool = False) -> list[str]:
    found = _WORD.findall(text)
    if lowercase and found:
        # One casefold of the joined words: casefold never makes or removes a NUL.
        return "\0".join(found).casefold().split("\0")
    return found


# \w on str: [0-9A-Za-z_] and every character str.isalnum() accepts (the re module's definition;
# checked over every code point by the tests), so a table for ASCII and isalnum for the rest.
_ASCII_WORD = np.array([chr(c).isalnum() or c == 95 for c in range(128)], dtype=bool)


@functools.cache  # built on first use (1.1 MB, ~0.2 s); the C cache stores it whole, safe under threads
def _word_table() -> np.ndarray:
    """bool per code point: a \\w character."""
    return np.array([chr(c).isalnum() or c == 95 for c in range(0x110000)], dtype=bool)


def _code_point_word_chars(cp: np.ndarray) -> np.ndarray:
    """bool per code point (uint32 array): a \\w character."""
    return _word_table()[cp]


def _word_chars(text: str) -> np.ndarray | None:
    """bool per character of text: a \\w character; None when text holds a lone surrogate."""
    if text.isascii():
        return _ASCII_WORD[np.frombuffer(text.encode("ascii"), dtype=np.uint8)]
    try:
        return _code_point_word_chars(np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32))
    except UnicodeEncodeError:
        return None


def word_starts_ends(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(first character, one past the last) of each word, as int64 arrays; same words as words(),
    found with array operations (no match object per word)."""
    mask = _word_chars(text)
    if mask is None:
        spans = [m.span() for m in _WORD.finditer(text)]
        arr = np.array(spans, dtype=np.int64).reshape(-1, 2)
        return arr[:, 0], arr[:, 1]
    edges = np.diff(mask.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    return np.flatnonzero(edges == 1).astype(np.int64), np.flatnonzero(edges == -1).astype(np.int64)


def batch_word_hashes(texts: list[str], lowercase: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(uint64 hash of every word of every text, concatenated; int64 offsets, len(texts) + 1).
    The hashes are minhash.unit_hashes' of words(text, lowercase), computed (without lowercase)
    from the UTF-8 bytes of the whole batch at once: no Python string per word."""
    if not lowercase and texts:
        found = _batch_word_hashes_bytes(texts)
        if found is not None:
            return found
    per_text = [words(t, lowercase) for t in texts]
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(w) for w in per_text], out=offsets[1:])
    flat = [w for ws in per_text for w in ws]
    return unit_hashes(flat), offsets


def _batch_word_hashes_bytes(texts: list[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """batch_word_hashes without lowercase: words are the runs of \\w bytes of the batch's UTF-8
    (a multi-byte character's bytes take its class), hashed as unit_hashes hashes them:
    sum_j byte_j * P^(end-1-j), mixed with the length (the same value wherever the word lies).
    None when a text holds a lone surrogate (no UTF-8)."""
    joined = "\0".join(texts)  # NUL is not a word character: no word crosses two texts
    try:
        data = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)
    except UnicodeEncodeError:
        return None
    char_bounds = np.cumsum([len(t) + 1 for t in texts])  # one past each text's NUL, in characters
    if len(data) == len(joined):  # ASCII: a byte is a character
        mask = _ASCII_WORD[data] if len(data) else np.zeros(0, dtype=bool)
        char_of = None
    else:
        cp_mask = _code_point_word_chars(np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32))
        char_of = np.cumsum((data & 0xC0) != 0x80, dtype=np.int32) - 1  # the character each byte belongs to
        mask = cp_mask[char_of]
        del cp_mask
    edges = np.diff(mask.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    start_chars = starts if char_of is None else char_of[starts]
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    offsets[1:] = np.searchsorted(start_chars, char_bounds)
    if not len(starts):
        return np.zeros(0, dtype=np.uint64), offsets
    return word_hashes(data, starts, ends), offsets


def window_hashes(h: np.ndarray, n: int) -> np.ndarray:
    """uint64 hash of each run of n consecutive values of h (len(h) - n + 1 of them, or none):
    sum_t h[i+t] * P^t from prefix sums of h[j] * P^j, mixed. O(len(h)) whatever n."""
    m = len(h) - n + 1
    if m <= 0:
        return np.zeros(0, dtype=np.uint64)
    poly = np.empty(m, dtype=np.uint64)
    # A window's value depends on its own values only: passes of PASS_ENTRIES windows keep the
    # power tables (kept for the process's life) bounded whatever the batch holds.
    for first in range(0, m, PASS_ENTRIES):
        last = min(m, first + PASS_ENTRIES)
        part = h[first : last + n - 1]
        powers, inv_powers = power_tables(len(part) + 1)
        with np.errstate(over="ignore"):
            prefix = np.zeros(len(part) + 1, dtype=np.uint64)
            np.cumsum(part * powers[: len(part)], out=prefix[1:])
            poly[first:last] = (prefix[n:] - prefix[: last - first]) * inv_powers[: last - first]
    return mix64(poly ^ np.uint64(n))


def _sliding(values: np.ndarray, w: int, op) -> np.ndarray:
    """op (np.minimum / np.maximum) over every run of w consecutive values, by doubling:
    O(len * log w) vector operations."""
    out = values.copy()
    span = 1
    while span * 2 <= w:  # out[i] = op(values[i : i + span])
        out = op(out[:-span], out[span:])
        span *= 2
    if span < w:  # two overlapping runs of `span` cover w
        out = op(out[: len(values) - w + 1], out[w - span : w - span + len(values) - w + 1])
    return out[: len(values) - w + 1]


def winnow(g_hashes: np.ndarray, w: int, valid: np.ndarray | None = None) -> np.ndarray:
    """Positions whose hash is the minimum of some window of w consecutive hashes (all tied
    positions: a superset of Schleimer et al.'s rightmost rule, and as local). `valid[j]`: window j
    may be used (False for windows that cross documents in a batch)."""
    n = len(g_hashes)
    if n < w:
        return np.zeros(0, dtype=np.int64)
    mins = _sliding(g_hashes, w, np.minimum)  # mins[j] = min of window j
    if valid is not None:
        mins = np.where(valid, mins, np.uint64(0))  # 0 never equals a real hash below
    # i is selected iff some window j in [i-w+1, i] has mins[j] == h[i]; every such mins[j] <= h[i],
    # so iff the largest of them equals h[i]. Pad so every position has w windows around it.
    padded = np.concatenate((np.zeros(w - 1, dtype=np.uint64), mins, np.zeros(w - 1, dtype=np.uint64)))
    best = _sliding(padded, w, np.maximum)
    return np.flatnonzero((best == g_hashes) & (g_hashes != 0))


def batch_fingerprints(texts: list[str], k: int, g: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per text, (selected word positions int64, their g-gram hashes uint64), step 1 above."""
    h, offsets = batch_word_hashes(texts)
    gh = window_hashes(h, g)
    # g-gram j starts at word j; it belongs to the text holding words j..j+g-1.
    doc_of = np.repeat(np.arange(len(texts)), np.diff(offsets))
    w = k - g + 1
    out = []
    if len(gh) < w:
        return [(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)) for _ in texts]
    last_word = np.arange(len(gh)) + g - 1
    g_ok = doc_of[: len(gh)] == doc_of[last_word]
    # window j holds g-grams j..j+w-1, i.e. words j..j+k-1: valid when all in one text
    j = np.arange(len(gh) - w + 1)
    valid = (doc_of[j] == doc_of[j + k - 1]) & g_ok[j]
    selected = winnow(gh, w, valid)
    sel_doc = doc_of[selected]
    bounds = np.searchsorted(sel_doc, np.arange(len(texts) + 1))
    for i in range(len(texts)):
        pos = selected[bounds[i] : bounds[i + 1]]
        out.append((pos - offsets[i], gh[pos]))
    return out


def candidate_set(values: np.ndarray) -> np.ndarray:
    """Candidate fingerprint values (an int64 or uint64 array) as the sorted unique uint64 array
    that batch_candidate_kgrams searches: 8 bytes per candidate."""
    values = np.asarray(values)
    if values.dtype != np.uint64:
        values = values.astype(np.int64).view(np.uint64)
    return np.unique(values)


def batch_candidate_kgrams(texts: list[str], candidates: np.ndarray, k: int, g: int) -> list[list[tuple[int, np.ndarray, np.ndarray]]]:
    """Step 2 for a batch of texts, given the candidate fingerprint values (a sorted uint64 array,
    candidate_set): per text, a list of (v, starts, k-gram hashes) per value v, of the k-grams
    whose window minimum v is a candidate (starts int64 within the text, hashes uint64, by start).
    A repeated k-gram's minimum collides in every copy, so every copy lands in the list of the
    same v. No winnowing is needed here: a k-gram's
    window minimum is selected wherever it occurs, so it is a candidate iff it collided in step 1.
    Texts without such k-grams get [] (most of them; their k-gram hashes are never computed)."""
    out: list[list] = [[] for _ in texts]
    w = k - g + 1
    if not len(candidates) or not texts:
        return out
    h, offsets = batch_word_hashes(texts)
    gh = window_hashes(h, g)
    if len(gh) < w:
        return out
    mins = _sliding(gh, w, np.minimum)  # mins[q]: the minimum g-gram hash of the k words from word q
    i = np.minimum(np.searchsorted(candidates, mins), len(candidates) - 1)
    hit = candidates[i] == mins
    if not hit.any():
        return out
    doc_of = np.repeat(np.arange(len(texts)), np.diff(offsets))
    q = np.flatnonzero(hit)
    q = q[doc_of[q] == doc_of[q + k - 1]]  # k-grams inside one text
    if not len(q):
        return out
    kh = window_hashes(h, k)[q]
    values, docs = mins[q], doc_of[q]
    order = np.lexsort((q, values, docs))  # by text, then value, then start
    q, kh, values, docs = q[order], kh[order], values[order], docs[order]
    local = q - offsets[docs]
    change = np.concatenate(([True], (values[1:] != values[:-1]) | (docs[1:] != docs[:-1]), [True]))
    bounds = np.flatnonzero(change)
    vals, dl = values.tolist(), docs.tolist()
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        out[dl[a]].append((vals[a], local[a:b], kh[a:b]))
    return out


def count_fingerprints(found) -> tuple[np.ndarray, np.ndarray]:
    """batch_fingerprints' output for a batch (or some of it) -> (distinct fingerprint values,
    uint64; how many places of the batch select each): what step 1 shuffles, one pair per value
    per batch, not one per place."""
    hashes = [fp for _, fp in found if len(fp)]
    if not hashes:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate(hashes), return_counts=True)


def group_cuts(records):
    """Step 2's reduction for one fingerprint value: records (id, starts, k-gram hashes) of every
    document holding k-grams with that window minimum -> (id, starts of its later copies) for the
    documents that have some. A k-gram's first occurrence is its smallest (id, start). Two passes
    over `records` (re-iterable); memory: the distinct k-grams of this one fingerprint."""
    first: dict[int, tuple[str, int]] = {}
    for doc_id, starts, hashes in records:
        for q, h in zip(starts.tolist(), hashes.tolist()):
            seen = first.get(h)
            if seen is None or (doc_id, q) < seen:
                first[h] = (doc_id, q)
    for doc_id, starts, hashes in records:
        later = [q for q, h in zip(starts.tolist(), hashes.tolist()) if first[h] != (doc_id, q)]
        if later:
            yield doc_id, np.array(later, dtype=np.int64)


def removed_mask(n_words: int, starts, k: int) -> np.ndarray:
    """bool per word: covered by a k-gram starting at one of `starts`."""
    cover = np.zeros(n_words + 1, dtype=np.int64)
    starts = np.asarray(starts, dtype=np.int64)
    np.add.at(cover, starts, 1)
    np.add.at(cover, np.minimum(starts + k, n_words), -1)
    return np.cumsum(cover)[:n_words] > 0


def removed_ranges(text: str, mask: np.ndarray, starts: np.ndarray | None = None) -> list[tuple[int, int]]:
    """Character ranges [a, b) removed for the words marked in `mask` (one per run of them).
    `starts`: the text's word starts (word_starts_ends), when the caller has them already."""
    if starts is None:
        starts, _ = word_starts_ends(text)
    if len(starts) != len(mask):  # a bug in the caller: the mask is of another text
        raise ValueError(f"mask of {len(mask)} words for a text of {len(starts)}")
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    run_lo, run_hi = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    bounds = np.append(starts, len(text))
    return [(int(bounds[a]), int(bounds[b])) for a, b in zip(run_lo, run_hi)]


def cut(text: str, ranges: list[tuple[int, int]]) -> str:
    pieces, at = [], 0
    for a, b in ranges:
        pieces.append(text[at:a])
        at = b
    pieces.append(text[at:])
    return "".join(pieces)


def later_copies(group):
    """Step 2's reduction for a fingerprint value too common to group in memory, regrouped by k-gram:
    the (id, position) occurrences of one k-gram -> all but the smallest. Two passes over `group`,
    never a list of it (a k-gram on a million pages is one hot key)."""
    first = None
    for occurrence in group:
        if first is None or occurrence < first:
            first = occurrence
    for occurrence in group:
        if occurrence != first:
            yield occurrence


def find_cuts(docs: list[tuple[str, str]], k: int, g: int, batch_size: int = 256) -> dict[str, np.ndarray]:
    """(id, text) -> {id: starts of its later-copy k-grams}: steps 1 and 2 on one machine, with
    dicts where the stage has shuffles and an array where it has a side input. For tests and the
    benchmark of the numpy core."""
    counts: dict[int, int] = {}
    for lo in range(0, len(docs), batch_size):
        values, n = count_fingerprints(batch_fingerprints([t for _, t in docs[lo : lo + batch_size]], k, g))
        for v, c in zip(values.tolist(), n.tolist()):
            counts[v] = counts.get(v, 0) + c
    candidates = candidate_set(np.array([v for v, c in counts.items() if c > 1], dtype=np.uint64))
    by_value: dict[int, list] = {}
    for lo in range(0, len(docs), batch_size):
        batch = docs[lo : lo + batch_size]
        for (doc_id, _), found in zip(batch, batch_candidate_kgrams([t for _, t in batch], candidates, k, g)):
            for v, starts, hashes in found:
                by_value.setdefault(v, []).append((doc_id, starts, hashes))
    cuts: dict[str, list] = {}
    for records in by_value.values():
        for doc_id, later in group_cuts(records):
            cuts.setdefault(doc_id, []).append(later)
    return {doc_id: np.unique(np.concatenate(parts)) for doc_id, parts in cuts.items()}
