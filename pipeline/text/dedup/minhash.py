"""MinHash signatures and LSH band keys, vectorised over a batch of documents (no Beam here).

A document becomes a set of shingles (word n-grams of its normalised text by default, character
n-grams for languages without spaces); each shingle is a 64-bit value; a signature holds, for
each of `num_perm` hash functions, the minimum over the shingles. Two signatures agree in a
position with probability equal to the Jaccard similarity of the shingle sets (Broder 1997).

Where the time goes, and why it is numpy: a word is hashed once per batch (blake2b, cached in a
dict), a shingle is a rolling combination of its words' hashes (vector ops over the batch), and
the hash functions are affine permutations of 32-bit values, h(x) = a*x + b mod 2^32 with odd a,
evaluated as one (shingles x permutations) uint32 product and reduced per document with
np.minimum.reduceat. No Python loop runs per shingle or per permutation.

Banding follows datasketch: the (bands, rows) pair that minimises the weighted false positive
and false negative probabilities at the Jaccard threshold (datasketch.lsh._optimal_param).
"""

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from itertools import chain

import numpy as np

_MASK32 = np.uint64(0xFFFFFFFF)
_PUNCT = re.compile(r"[^\w\s]+")
_WORD = re.compile(r"\w+")  # the words normalize() leaves: runs between punctuation and spaces
_SPACE = re.compile(r"\s+")
_ROWS_PER_CHUNK = 8192  # shingles per (shingles x permutations) product: bounds memory on long docs


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


class WordHashes(dict):
    """word -> 64-bit blake2b, computed on first sight. A caller that keeps one across batches
    (a worker's DoFn) hashes each distinct word once; it clears itself past `limit` words."""

    limit = 2_000_000

    def __missing__(self, word: str) -> int:
        if len(self) >= self.limit:
            self.clear()
        value = self[word] = int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")
        return value


def _units(text: str, shingling: Shingling) -> list[str]:
    """The words (or characters) of normalize(text), without building the normalised string."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if shingling.lowercase:
        text = text.casefold()
    words = _WORD.findall(text) if shingling.strip_punctuation else text.split()
    return words if shingling.unit == "word" else list("".join(words))


def shingle_hashes(texts: list[str], shingling: Shingling, distinct: bool = False, cache: WordHashes | None = None) -> list[np.ndarray]:
    """Per text, the uint64 hashes of its shingles in order (a text shorter than n units is one
    shingle); `distinct` makes each a set. MinHash does not need it: a repeated shingle cannot
    change a minimum. The whole batch is combined in one pass of vector operations."""
    cache = WordHashes() if cache is None else cache
    units_per_text = [_units(text, shingling) for text in texts]
    sizes = np.fromiter(map(len, units_per_text), dtype=np.int64, count=len(texts))
    hashes = np.fromiter(map(cache.__getitem__, chain.from_iterable(units_per_text)), dtype=np.uint64, count=int(sizes.sum()))
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
