"""Joins by id that shuffle only the records a join concerns.

A dedup stage decides about a few documents (the duplicates, the documents that get cut) and then
joins that decision with every document by id. A CoGroupByKey of the whole corpus moves every
document through a shuffle: on the DirectRunner that is a decoded copy of every document in the
runner's memory, per join. Here the ids the decision names are first gathered into a sorted array
of 64-bit hashes, given to every worker as a side input (8 bytes per id named, not per document);
a record whose id hash is absent goes on untouched, in the same fused step, and only the others
meet the decision in the join. A hash collision only sends a record through the join, which then
decides on the exact id, so the output is the same as joining everything.
"""

from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipeline.id_hashes import SortedHashes, holds, id_hash

AFFECTED = "affected"


class _Route(beam.DoFn):
    def process(self, keyed, marked):
        if marked is not None and holds(marked, keyed[0]):
            yield beam.pvalue.TaggedOutput(AFFECTED, keyed)
        else:
            yield keyed


class SplitByIds(beam.PTransform):
    """(id, record) pairs + a collection of ids -> outputs `untouched` (main: pairs whose id is
    not among the ids, up to hash collisions) and AFFECTED (the rest, for the join)."""

    def __init__(self, ids):
        super().__init__()
        self._ids = ids

    def expand(self, keyed):
        # Without CombineGlobally's default branch (four more steps in every run): no ids at all
        # is the side input's default, None.
        marked = self._ids | "IdHashes" >> beam.Map(id_hash) | "MarkedIds" >> beam.CombineGlobally(SortedHashes()).without_defaults()
        side = beam.pvalue.AsSingleton(marked, default_value=None)
        return keyed | "Route" >> beam.ParDo(_Route(), side).with_outputs(AFFECTED, main="untouched")


class Joined(NamedTuple):
    untouched: Any  # the documents no pair names
    joined: Any  # (id, {"doc": [document], "drop": [values]}) for the documents some pair names


class _Untouched(beam.DoFn):
    """(id, document) -> document, counted as kept by the stage (its `kept` metric)."""

    def __init__(self, stage_id: str):
        self._stage_id = stage_id

    def setup(self):
        self._kept = Metrics.counter(self._stage_id, "kept")

    def process(self, keyed):
        self._kept.inc()
        yield keyed[1]


def join_named(docs, pairs, stage_id: str) -> Joined:
    """documents + (id, value) pairs -> Joined: a CoGroupByKey of the pairs with only the
    documents they name (tags "doc" and "drop", as a join of everything would give)."""
    split = docs | "ById" >> beam.Map(lambda d: (d.id, d)) | "Split" >> SplitByIds(pairs | "NamedIds" >> beam.Keys())
    joined = {"doc": split[AFFECTED], "drop": pairs} | "Join" >> beam.CoGroupByKey()
    return Joined(untouched=split.untouched | "Untouched" >> beam.ParDo(_Untouched(stage_id)), joined=joined)
