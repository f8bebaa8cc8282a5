"""Run-unique document ids. Dedup, the mixture and every join key on the document id, and real
corpora repeat ids all the time (per-file line numbers, shards whose ids restart, two dumps of
one site): two documents with one id would be joined to each other's verdicts.

An id held by more than one record is made unique from where each record was read: every holder
gets "<id>@<location>" ("w7@b.jsonl:8"), and keeps the id it was given in `record_id`. Records
whose id is unique keep it as it is. Only 8-byte id hashes are shuffled to find the repeats, and
workers receive just the repeated ones, as one sorted array.
"""

import apache_beam as beam
import numpy as np

from pipeline.id_hashes import SortedHashes, holds, id_hash
from pipeline.records import Document


def _repeat_counts(totals: tuple[int, int]) -> dict[str, int]:
    return {"ids": totals[0], "documents": totals[1]}


def unique_id(doc: Document, repeated: np.ndarray) -> Document:
    if holds(repeated, doc.id):
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
        hashes = repeated | "RepeatedKeys" >> beam.Keys() | "RepeatedHashes" >> beam.CombineGlobally(SortedHashes())
        # Summed, never listed: in the worst case (every file's ids restart) every id repeats.
        counts = (
            repeated
            | "OneAndHolders" >> beam.Map(lambda pair: (1, pair[1]))
            | "RepeatedCounts" >> beam.CombineGlobally(lambda pairs: tuple(map(sum, zip(*pairs))) or (0, 0))
            | "Summarise" >> beam.Map(_repeat_counts)
        )
        unique = docs | "UniqueIds" >> beam.Map(unique_id, beam.pvalue.AsSingleton(hashes))
        return unique, counts
