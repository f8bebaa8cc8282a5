"""MinHash signatures and LSH band keys, vectorised over a batch of documents (no Beam here).

A document becomes a set of shingles (word n-grams of its normalised text by default, character
n-grams for languages without spaces); each shingle is a 64-bit value; a signature holds, for
each of `num_perm` hash functions, the minimum over the shingles. Two signatures agree in a
position with probability equal to the Jaccard similarity of the shingle sets (Broder 1997).

Where the time goes, and why it is numpy: the words of a whole batch are hashed at once from
their UTF-8 bytes (unit_hashes), a shingle is a rolling combination of its words' hashes (vector
ops over the batch), and
the hash functions are affine permutations of 32-bit values, h(x) = a*x + b mod 2^32 with odd a,
evaluated as one (shingles x permutations) uint32 product and reduced per document with
np.minimum.reduceat. No Python loop runs per shingle or per permutation.

Banding follows datasketch: the (bands, rows) pair that minimises the weighted false positive
and false negative probabilities at the Jaccard threshold (datasketch.lsh._optimal_param).
"""

import re
import threading
import unicodedata
from dataclasses import dataclass
from itertools import chain
from typing import Literal

import numpy as np

from pipeline.settings import check


@dataclass(frozen=True, kw_only=True)
class MinHashConfig:
    threshold: float = 0.8  # Jaccard similarity of shingle sets that makes two documents near duplicates
    num_perm: int = 128
    shingle: Literal["word", "char"] = "word"  # char n-grams for languages written without spaces
    ngram: int = 5  # word 5-grams, as Gopher, RefinedWeb and datatrove use
    seed: int = 1  # the permutations are a pure function of (num_perm, seed)
    # datasketch picks bands x rows minimising these weighted error probabilities at the threshold.
    # Candidates are verified (below), so a false positive of the bands costs one comparison and a
    # false negative a missed duplicate: weigh misses 9x (128 perms -> 14 bands x 9 rows; 0.5/0.5
    # gives 9 x 13, which finds only 40% of pairs at J = 0.8; bench/dedup_quality.py).
    false_positive_weight: float = 0.1
    false_negative_weight: float = 0.9
    verify: bool = True  # keep a candidate pair only if its estimated Jaccard reaches the threshold
    # Then check the pair's exact Jaccard from the two shingle sets (NeMo Curator's verification):
    # shuffles each candidate's shingle hashes once more; removes the estimator's errors.
    verify_exact: bool = True
    batch_size: int = 256  # documents per signature batch
    max_rounds: int = 10  # large-star/small-star rounds unrolled in the graph (O(log^2 n) needed)

    def __post_init__(self):
        check(0.0 < self.threshold <= 1.0, "dedup.minhash.threshold", f"must be in (0, 1], got {self.threshold}")
        check(8 <= self.num_perm <= 1024, "dedup.minhash.num_perm", "must be in [8, 1024]")
        check(1 <= self.ngram <= 50, "dedup.minhash.ngram", "must be in [1, 50]")
        check(1 <= self.max_rounds <= 64, "dedup.minhash.max_rounds", "must be in [1, 64]")
        check(1 <= self.batch_size <= 100_000, "dedup.minhash.batch_size", "must be in [1, 100000]")
        for key in ("false_positive_weight", "false_negative_weight"):
            check(0.0 <= getattr(self, key) <= 1.0, f"dedup.minhash.{key}", "must be in [0, 1]")


_MASK32 = np.uint64(0xFFFFFFFF)
_PUNCT = re.compile(r"[^\w\s]+")
_WORD = re.compile(r"\w+")  # the words normalize() leaves: runs between punctuation and spaces
_ASCII_NON_WORD = str.maketrans({c: " " for c in map(chr, range(128)) if not (c.isalnum() or c == "_")})
_SPACE = re.compile(r"\s+")
_ROWS_PER_CHUNK = 8192  # shingles per (shingles x permutations) product: bounds memory on long docs
PASS_ENTRIES = 1 << 18  # table entries one polynomial pass uses: the power tables stay within 8 MiB


@dataclass(frozen=True)
class Shingling:
    unit: str = "word"  # "word": word n-grams; "char": character n-grams (no spaces needed)
    n: int = 5
    lowercase: bool = True
    strip_punctuation: bool = True


def normalize(text: str, lowercase: bool = True, strip_punctuation: bool = True) -> str:
    """NFC, case folded, punctuation to spaces, whitespace collapsed: what makes two copies of a
    page with other casing, quotes or spacing the same document for deduplication."""
    if not text.isascii():  # ASCII is already in NFC
        text = unicodedata.normalize("NFC", text)
    if lowercase:
        text = text.casefold()
    if strip_punctuation:
        text = _PUNCT.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


_P = np.uint64(0x100000001B3)  # odd, so it has an inverse modulo 2^64
_P_INV = np.uint64(pow(0x100000001B3, -1, 2**64))


def mix64(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit reaches every output bit."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


# (P^j, P^-j) for j < len: one tuple, replaced whole. Bundles run on threads, and a reader must
# never see a grown P^j beside a stale P^-j (an IndexError, or worse, silently wrong hashes).
_POWERS = (np.ones(1, dtype=np.uint64), np.ones(1, dtype=np.uint64))
_POWERS_LOCK = threading.Lock()  # one thread grows the tables; the others wait, then reuse them


def power_tables(n: int) -> tuple[np.ndarray, np.ndarray]:
    """P^j and P^-j (mod 2^64) for j < n; computed once and grown as needed (same values always)."""
    global _POWERS
    powers = _POWERS  # one read: a pair that was published together
    if len(powers[0]) < n:
        with _POWERS_LOCK:
            powers = _POWERS
            if len(powers[0]) < n:
                size = max(n, 2 * len(powers[0]))
                tables = []
                with np.errstate(over="ignore"):
                    for base in (_P, _P_INV):
                        table = np.full(size, base, dtype=np.uint64)
                        table[0] = 1
                        tables.append(np.cumprod(table))
                powers = _POWERS = (tables[0], tables[1])
    return powers[0][:n], powers[1][:n]


def unit_hashes(units: list[str]) -> np.ndarray:
    """A 64-bit hash per word, all words of a batch at once: the UTF-8 bytes of the words joined
    by NUL (no word holds one), hashed by word_hashes. No Python call per word."""
    if not units:
        return np.zeros(0, dtype=np.uint64)
    data = np.frombuffer("\0".join(units).encode("utf-8"), dtype=np.uint8)
    ends = np.append(np.flatnonzero(data == 0), len(data))  # one past each word's last byte
    starts = np.concatenate(([0], ends[:-1] + 1))
    return word_hashes(data, starts, ends)


def word_hashes(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each word data[start:end] (starts ascending, words apart): the polynomial
    sum_j byte_j * P^(end-1-j) mod 2^64, from prefix sums of byte_j * P^-j, with the word's length
    mixed in (it separates "a" + "\0" cases).

    A word's value depends on its own bytes only, so the words go through in runs of at most
    PASS_ENTRIES bytes (a longer word alone): the power tables, kept for the process's life at 16
    bytes per entry, and the prefix sums stay that size whatever the batch holds (a batch with a
    50 MB book would otherwise keep 800 MB of tables on every worker)."""
    out = np.empty(len(ends), dtype=np.uint64)
    first = 0
    while first < len(ends):
        last = max(first + 1, int(np.searchsorted(ends, starts[first] + PASS_ENTRIES, side="right")))
        base = starts[first]
        part, s, e = data[base : ends[last - 1]], starts[first:last] - base, ends[first:last] - base
        powers, inv_powers = power_tables(len(part) + 1)
        with np.errstate(over="ignore"):
            prefix = np.zeros(len(part) + 1, dtype=np.uint64)
            np.cumsum(part * inv_powers[: len(part)], out=prefix[1:])
            out[first:last] = (prefix[e] - prefix[s]) * powers[e - 1]
        first = last
    return mix64(out ^ (ends - starts).astype(np.uint64))


def _units(text: str, shingling: Shingling) -> list[str]:
    """The words (or characters) of normalize(text), without building the normalised string."""
    ascii_text = text.isascii()
    if not ascii_text:  # ASCII is already in NFC
        text = unicodedata.normalize("NFC", text)
    if shingling.lowercase:
        text = text.casefold()
    if not shingling.strip_punctuation:
        words = text.split()
    elif ascii_text:  # same words as the regex, 1.6x faster: every ASCII non-word char -> space
        words = text.translate(_ASCII_NON_WORD).split()
    else:
        words = _WORD.findall(text)
    return words if shingling.unit == "word" else list("".join(words))


def shingle_hashes(texts: list[str], shingling: Shingling, distinct: bool = False) -> list[np.ndarray]:
    """Per text, the uint64 hashes of its shingles in order (a text shorter than n units is one
    shingle); `distinct` makes each a set. MinHash does not need it: a repeated shingle cannot
    change a minimum. The whole batch is combined in one pass of vector operations."""
    units_per_text = [_units(text, shingling) for text in texts]
    sizes = np.fromiter(map(len, units_per_text), dtype=np.int64, count=len(texts))
    hashes = unit_hashes(list(chain.from_iterable(units_per_text)))
    # Shingle i of a text combines units i..i+n-1: h = sum_k h[i+k] * M^(n-1-k) (mod 2^64), over
    # the concatenated batch; windows that cross into the next text are dropped below.
    n = shingling.n
    combined = hashes
    with np.errstate(over="ignore"):
        for k in range(1, n):
            combined = combined[:-1] * np.uint64(0x100000001B3) + hashes[k:]
    out, start = [], 0
    for size in sizes.tolist():
        if size == 0:
            piece = np.zeros(0, dtype=np.uint64)
        elif size >= n:
            piece = combined[start : start + size - n + 1]
        else:  # shorter than one shingle: the whole text is one shingle
            piece = np.zeros(1, dtype=np.uint64)
            with np.errstate(over="ignore"):
                for h in hashes[start : start + size]:
                    piece[0] = piece[0] * np.uint64(0x100000001B3) + h
        out.append(np.unique(piece) if distinct else piece)
        start += size
    return out


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) of each permutation x -> a*x + b mod 2^32; a odd makes it a bijection. A pure
    function of (num_perm, seed)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    a = (rng.integers(0, 2**31, size=num_perm, dtype=np.uint32) << np.uint32(1)) | np.uint32(1)
    b = rng.integers(0, 2**32, size=num_perm, dtype=np.uint64).astype(np.uint32)
    return a, b


def signatures(shingles: list[np.ndarray], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(documents x num_perm) uint32 MinHash signatures; a document without shingles gets all
    0xFFFFFFFF (it matches nothing but another empty document)."""
    num_perm = len(a)
    out = np.full((len(shingles), num_perm), 0xFFFFFFFF, dtype=np.uint32)
    sizes = np.fromiter(map(len, shingles), dtype=np.int64, count=len(shingles))
    nonempty = np.flatnonzero(sizes)
    if nonempty.size == 0:
        return out
    flat = np.concatenate([shingles[i] for i in nonempty])
    # Fold each 64-bit shingle to the 32-bit key the permutations act on.
    keys = ((flat ^ (flat >> np.uint64(32))) & _MASK32).astype(np.uint32)
    starts = np.zeros(len(nonempty), dtype=np.int64)
    np.cumsum(sizes[nonempty][:-1], out=starts[1:])
    mins = np.full((num_perm, len(nonempty)), 0xFFFFFFFF, dtype=np.uint32)
    with np.errstate(over="ignore"):
        for lo in range(0, len(keys), _ROWS_PER_CHUNK):
            chunk = keys[lo : lo + _ROWS_PER_CHUNK]
            # (permutations x shingles): each permutation's row is contiguous, so the reduction
            # over a document's shingles runs along memory (15x faster than the transpose).
            hashed = a[:, None] * chunk[None, :]
            hashed += b[:, None]  # uint32: wraps mod 2^32
            # The documents that have shingles in this chunk, and where each starts in it.
            first = np.searchsorted(starts, lo, side="right") - 1
            last = np.searchsorted(starts, lo + len(chunk) - 1, side="right") - 1
            offsets = np.maximum(starts[first : last + 1] - lo, 0)
            part = mins[:, first : last + 1]
            np.minimum(part, np.minimum.reduceat(hashed, offsets, axis=1), out=part)
    out[nonempty] = mins.T
    return out


def lsh_params(threshold: float, num_perm: int, false_positive_weight: float = 0.5, false_negative_weight: float = 0.5) -> tuple[int, int]:
    """(bands, rows) as datasketch's MinHashLSH chooses them for this threshold."""
    from datasketch.lsh import _optimal_param

    return _optimal_param(threshold, num_perm, false_positive_weight, false_negative_weight)


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(documents x bands) uint64: a hash of each band's rows; equal keys in the same band make a
    candidate pair."""
    n = sigs.shape[0]
    view = np.ascontiguousarray(sigs[:, : bands * rows]).reshape(n, bands, rows).astype(np.uint64)
    key = np.full((n, bands), 0xCBF29CE484222325, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for r in range(rows):
            key = (key ^ view[:, :, r]) * np.uint64(0x100000001B3)  # FNV-1a over the band's values
    return key


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    return float(np.mean(sig_a == sig_b))
