"""SimHash near-duplicate fingerprints and block-method candidate search.

SimHash (Charikar 2002, "Similarity estimation techniques from rounding algorithms") maps a
document's set of shingle hashes to one 64-bit fingerprint: bit b is set when more shingles have
bit b set than clear. Similar shingle sets give fingerprints at small Hamming distance; Manku,
Jain and Das Sarma (WWW 2007, "Detecting near-duplicates for web crawling") use 64 bits and
k = 3 for web pages.

Candidate search is their block method: cut the 64 bits into k+1 contiguous blocks; if two
fingerprints differ in at most k bits, by pigeonhole at least one block holds none of those bits,
so they agree exactly on it. Every (block index, block value) is a bucket, and only documents
sharing a bucket need comparing. Buckets hold about n / 2**(64/(k+1)) documents each (k=3: 16-bit
blocks, n / 65536), so on very large corpora the paper's larger permuted tables are the fix.

Everything is numpy over a whole batch (no Python loop over shingles or bits) and deterministic
across processes: no salted hash() anywhere.
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np

from pipeline.settings import check


@dataclass(frozen=True, kw_only=True)
class SimHashConfig:
    # Manku et al. 2007: 64-bit fingerprints, near duplicates within Hamming distance 3.
    max_distance: int = 3
    shingle: Literal["word", "char"] = "word"
    ngram: int = 3
    batch_size: int = 256
    max_rounds: int = 10

    def __post_init__(self):
        check(0 <= self.max_distance <= 31, "dedup.simhash.max_distance", "must be in [0, 31]")
        check(1 <= self.ngram <= 50, "dedup.simhash.ngram", "must be in [1, 50]")
        check(1 <= self.max_rounds <= 64, "dedup.simhash.max_rounds", "must be in [1, 64]")
        check(1 <= self.batch_size <= 100_000, "dedup.simhash.batch_size", "must be in [1, 100000]")


_BITS = 64
_INDEX_SHIFT = 58  # block index goes in the top 6 bits of a key (up to 64 blocks)

_BYTE_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)


def _popcount_table(x: np.ndarray) -> np.ndarray:
    """Set bits per uint64 by a byte lookup table (numpy < 2 has no bitwise_count)."""
    x = np.asarray(x, dtype=np.uint64)
    flat = np.ascontiguousarray(x.reshape(-1))  # a 0-d array cannot be viewed as bytes
    return _BYTE_POPCOUNT[flat.view(np.uint8)].reshape(*x.shape, 8).sum(axis=-1)


def _popcount_native(x: np.ndarray) -> np.ndarray:
    return np.bitwise_count(x).astype(np.int64)


_popcount = _popcount_native if hasattr(np, "bitwise_count") else _popcount_table


def simhash_fingerprints(shingle_hashes: list[np.ndarray]) -> np.ndarray:
    """One uint64 SimHash per document from its array of uint64 shingle hashes.

    Weights are uniform: each array entry votes once, so a caller who wants a set semantics passes
    distinct hashes. Bit b is set when the +1/-1 sum over shingles is > 0, i.e. when more than half
    the shingles have bit b set (a tie leaves it clear). A document with no shingle gets 0.
    """
    sizes = np.fromiter(map(len, shingle_hashes), dtype=np.int64, count=len(shingle_hashes))
    out = np.zeros(len(shingle_hashes), dtype=np.uint64)
    nonempty = np.flatnonzero(sizes)
    if nonempty.size == 0:
        return out
    # Only non-empty documents go to reduceat: it cannot express an empty segment.
    flat = np.concatenate([np.asarray(shingle_hashes[i], dtype=np.uint64) for i in nonempty.tolist()])
    # Little-endian bytes + little bit order: column b of `bits` is bit b of the hash on any machine.
    bits = np.unpackbits(flat.astype("<u8").view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")
    starts = np.zeros(nonempty.size, dtype=np.int64)
    np.cumsum(sizes[nonempty][:-1], out=starts[1:])
    # (docs, 64): shingles with bit b set. uint32 accumulators: faster here than int64, and a
    # document would need 2**32 shingles to overflow. `bits` costs 64 bytes per shingle of the batch.
    ones = np.add.reduceat(bits, starts, axis=0, dtype=np.uint32).astype(np.int64)
    # sum of +1/-1 = ones - (size - ones) > 0  <=>  2 * ones > size
    majority = 2 * ones > sizes[nonempty][:, None]
    packed = np.packbits(majority, axis=1, bitorder="little")  # (docs, 8) bytes, little-endian
    out[nonempty] = packed.view("<u8").ravel().astype(np.uint64)
    return out


def hamming(a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
    """Bitwise Hamming distance of uint64 fingerprints (broadcasts like numpy; int64 result)."""
    x = np.bitwise_xor(np.asarray(a, dtype=np.uint64), np.asarray(b, dtype=np.uint64))
    return _popcount(x)


def _blocks(max_distance: int) -> tuple[np.ndarray, np.ndarray]:
    """(shift, mask) of each of the max_distance+1 blocks, block 0 holding the top bits.

    Sizes are as equal as possible: the first 64 % (k+1) blocks get one bit more.
    """
    if not 0 <= max_distance < _BITS:
        raise ValueError(f"max_distance must be in [0, {_BITS - 1}], got {max_distance}")
    count = max_distance + 1
    sizes = np.full(count, _BITS // count, dtype=np.int64)
    sizes[: _BITS % count] += 1
    ends = np.cumsum(sizes)  # bits from the top through the end of each block
    shifts = (_BITS - ends).astype(np.uint64)
    masks = np.array([(1 << int(s)) - 1 for s in sizes], dtype=np.uint64)
    return shifts, masks


def block_keys(fingerprints: np.ndarray, max_distance: int) -> np.ndarray:
    """Bucket keys, shape (n, max_distance+1): key[i, j] = (j << 58) | bits of block j of doc i.

    With k >= 1 a block has at most 32 bits, so the block index in bits 58..63 never overlaps the
    block's bits: keys of different blocks never collide, keys of one block are equal exactly when
    the block bits are. (k = 0 is one 64-bit block with index 0: the key is the fingerprint.)
    """
    shifts, masks = _blocks(max_distance)
    fp = np.asarray(fingerprints, dtype=np.uint64).reshape(-1, 1)
    values = (fp >> shifts) & masks
    index = np.arange(max_distance + 1, dtype=np.uint64) << np.uint64(_INDEX_SHIFT)
    return values | index


def candidate_pairs(fingerprints: np.ndarray, max_distance: int) -> list[tuple[int, int]]:
    """All pairs (i, j), i < j, with hamming(fp[i], fp[j]) <= max_distance, sorted.

    Pairs are generated only inside buckets of block_keys (complete by pigeonhole), deduplicated
    (a close pair usually shares several blocks), then verified by exact Hamming distance.
    """
    fp = np.asarray(fingerprints, dtype=np.uint64).ravel()
    n = fp.size
    if n < 2:
        return []
    keys = block_keys(fp, max_distance).ravel()
    docs = np.repeat(np.arange(n, dtype=np.int64), max_distance + 1)
    order = np.argsort(keys, kind="stable")
    keys, docs = keys[order], docs[order]
    # For each sorted position p, its partners are the later positions of the same bucket.
    new_group = np.r_[True, keys[1:] != keys[:-1]]
    group_starts = np.flatnonzero(new_group)
    group_ends = np.r_[group_starts[1:], keys.size]
    end_of = np.repeat(group_ends, np.diff(np.r_[group_starts, keys.size]))
    partners = end_of - np.arange(keys.size) - 1
    total = int(partners.sum())
    if total == 0:
        return []
    left = np.repeat(np.arange(keys.size), partners)
    # Offset of each generated pair within its left position's run: 1, 2, ..., partners[p].
    run_starts = np.repeat(np.cumsum(partners) - partners, partners)
    right = left + 1 + (np.arange(total) - run_starts)
    i, j = docs[left], docs[right]  # one key per (doc, block), so i != j within a bucket
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    code = np.unique(lo * n + hi)  # dedupe pairs found through several blocks
    lo, hi = code // n, code % n
    close = hamming(fp[lo], fp[hi]) <= max_distance
    return list(zip(lo[close].tolist(), hi[close].tolist()))
