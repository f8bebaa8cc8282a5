"""8-byte hashes of document ids, gathered into one sorted array that every worker searches: how a
few named ids (the ids that repeat, the ids a dedup decision names) reach all workers at 8 bytes
each, without a shuffle of the documents."""

import hashlib

import numpy as np

from pipeline.gather import Gather


def id_hash(doc_id: str) -> int:
    # Signed, so that Beam's integer coder (64-bit signed) carries it.
    return int.from_bytes(hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


class SortedHashes(Gather):
    """id hashes (ints) -> one sorted int64 array of the distinct ones (empty for none)."""

    def extract_output(self, acc: list) -> np.ndarray:
        return np.unique(np.fromiter(acc, dtype=np.int64, count=len(acc)))


def holds(hashes: np.ndarray, doc_id: str) -> bool:
    """Whether doc_id's hash is in the sorted array (a hash collision answers yes)."""
    if not hashes.size:
        return False
    h = np.int64(id_hash(doc_id))
    i = int(np.searchsorted(hashes, h))
    return i < hashes.size and hashes[i] == h
