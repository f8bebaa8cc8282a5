"""Counting 64-bit values (substring fingerprints, paragraph hashes) over the whole corpus with a
few hundred shuffled elements per batch of documents, not one per value.

A batch counts its own values (np.unique), then sends one element per shard of the value range
(the value's top 10 bits, 1,024 shards): the shard's values and counts as two arrays. A GroupByKey on the shard
brings every batch's part of one shard together, where `totals` sums the counts per value. On our
corpora a value-per-element shuffle cost ~10 us of Beam's per-element handling each, more than
computing the values; an array element costs that once. A shard's group holds 12 bytes per
(value, batch) pair of its 1/1,024 of the value range: it grows with the corpus, ~15 MB at 100 GB
of text for substring fingerprints (~0.07 per word), more shards would bound it lower but put
fewer values in each element (a batch of 256 documents holds a few thousand distinct values).
"""

from collections.abc import Iterator

import numpy as np

from pipeline.gather import Gather

_SHARD_BITS = 10
_SHIFT = np.uint64(64 - _SHARD_BITS)  # a value's top bits pick its shard


def by_shard(values: np.ndarray, counts: np.ndarray) -> Iterator[tuple[int, tuple[bytes, bytes]]]:
    """Sorted distinct uint64 values and their counts -> (shard, (values, uint32 counts)) per
    non-empty shard; sorted values make each shard one slice."""
    if not len(values):
        return
    shards = (values >> _SHIFT).astype(np.int64)
    starts = np.flatnonzero(np.diff(shards)) + 1
    for lo, hi in zip(np.concatenate(([0], starts)).tolist(), np.concatenate((starts, [len(values)])).tolist()):
        yield int(shards[lo]), (values[lo:hi].tobytes(), counts[lo:hi].astype(np.uint32).tobytes())


def totals(parts) -> tuple[np.ndarray, np.ndarray]:
    """A shard's (values, counts) parts -> (its distinct values, uint64, sorted; their summed counts)."""
    parts = list(parts)
    values = np.concatenate([np.frombuffer(v, dtype=np.uint64) for v, _ in parts])
    counts = np.concatenate([np.frombuffer(c, dtype=np.uint32) for _, c in parts])
    distinct, inverse = np.unique(values, return_inverse=True)
    return distinct, np.bincount(inverse, weights=counts, minlength=len(distinct)).astype(np.uint64)


def held_more_than(parts, n: int) -> bytes:
    """A shard's (values, counts) parts -> the values whose summed count exceeds n, as uint64 bytes."""
    values, counts = totals(parts)
    return values[counts > n].tobytes()


def sorted_set(arrays: list[bytes]) -> np.ndarray:
    """uint64 arrays as bytes -> one sorted distinct uint64 array."""
    return np.unique(np.frombuffer(b"".join(arrays), dtype=np.uint64))


class SortedValues(Gather):
    """uint64 values as bytes (one array's worth per input) -> one sorted distinct uint64 array."""

    def extract_output(self, acc: list) -> np.ndarray:
        return sorted_set(acc)


def holding(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """bool per value (uint64): whether it is in sorted_set (a SortedValues output)."""
    if not len(sorted_set) or not len(values):
        return np.zeros(len(values), dtype=bool)
    at = np.searchsorted(sorted_set, values).clip(max=len(sorted_set) - 1)
    return sorted_set[at] == values
