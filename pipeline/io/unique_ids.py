"""Run-unique document ids. Dedup, the mixture and every join key on the document id, and real
corpora repeat ids all the time (per-file line numbers, shards whose ids restart, two dumps of
one site): two documents with one id would be joined to each other's verdicts.

An id held by more than one record is made unique from where each record was read: every holder
gets "<id>@<location>" ("w7@b.jsonl:8"), and keeps the id it was given in `record_id`. Records
whose id is unique keep it as it is. Only 8-byte id hashes are shuffled to find the repeats, and
workers receive just the repeated ones, as one sorted array.
"""

import hashlib

import apache_beam as beam
import numpy as np

from pipeline.records import Document


def id_hash(doc_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest(), "big")


class _SortedHashes(beam.CombineFn):
    """(id hash, holders) -> the hashes as one sorted uint64 array (empty when no id repeats)."""

    def create_accumulator(self) -> list:
        return []

    def add_input(self, acc: list, pair) -> list:
        acc.append(pair[0])
        return acc

    def merge_accumulators(self, accumulators) -> list:
        return [h for acc in accumulators for h in acc]

    def extract_output(self, acc: list) -> np.ndarray:
        return np.sort(np.fromiter(acc, dtype=np.uint64, count=len(acc)))


def _repeat_counts(totals: tuple[int, int]) -> dict[str, int]:
    return {"ids": totals[0], "documents": totals[1]}


def unique_id(doc: Document, repeated: np.ndarray) -> Document:
    if repeated.size:
        h = np.uint64(id_hash(doc.id))
        i = int(np.searchsorted(repeated, h))
        if i < repeated.size and repeated[i] == h:
            return doc.replace(id=f"{doc.id}@{doc.metadata['location']}")
    return doc


class MakeIdsUnique(beam.PTransform):
    """docs -> (docs with run-unique ids, a singleton {"ids": repeated ids, "documents": their holders})."""

    def expand(self, docs):
        repeated = (
            docs
            | "IdHashes" >> beam.Map(lambda d: (id_hash(d.id), 1))
            | "CountHolders" >> beam.CombinePerKey(sum)
            | "Repeated" >> beam.Filter(lambda pair: pair[1] > 1)
        )
        hashes = repeated | "RepeatedHashes" >> beam.CombineGlobally(_SortedHashes())
        # Summed, never listed: in the worst case (every file's ids restart) every id repeats.
        counts = (
            repeated
            | "OneAndHolders" >> beam.Map(lambda pair: (1, pair[1]))
            | "RepeatedCounts" >> beam.CombineGlobally(lambda pairs: tuple(map(sum, zip(*pairs))) or (0, 0))
            | "Summarise" >> beam.Map(_repeat_counts)
        )
        unique = docs | "UniqueIds" >> beam.Map(unique_id, beam.pvalue.AsSingleton(hashes))
        return unique, counts
