"""Exact deduplication, and the join that every deduplication stage ends with.

Only ids, hashes and signatures are shuffled to decide what to drop; the documents the drop list
names meet it once, in a join by id (one document per key, never a group of texts), and the
others pass by that join (pipeline.stages.route). In
every group of duplicates the document with the smallest id is kept, the others are rejected
with the kept id in the detail, so the choice does not depend on order, worker or runner.
"""

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipeline.config import DedupConfig
from pipeline.records import Document, Reason, Rejection
from pipeline.stages import registry
from pipeline.stages.base import FilterResult
from pipeline.stages.route import join_named
from pipeline.text.dedup.exact import exact_key

EXACT_STAGE = registry.EXACT_STAGE  # the registry declares every stage id (pipeline.stages.registry)
_REJECTED = "rejected"


class DedupReason(Reason):
    EXACT_DUPLICATE = "exact_duplicate"
    NEAR_DUPLICATE = "near_duplicate"
    BOILERPLATE_ONLY = "boilerplate_only"  # too little left once repeated paragraphs are removed
    SUBSTRING_DUPLICATE = "substring_duplicate"  # too little left, or too much cut, once repeated spans are cut


def scope_of(doc: Document, cfg: DedupConfig) -> str:
    return doc.source if cfg.scope == "source" else ""


class _Join(beam.DoFn):
    """Per id: the document and, if it is to be dropped, why; one document per key."""

    def __init__(self, stage_id: str, reason: DedupReason, keep_text: bool):
        self._stage_id = stage_id
        self._reason = reason
        self._keep_text = keep_text

    def setup(self):
        self._kept = Metrics.counter(self._stage_id, "kept")
        self._dropped = Metrics.counter(self._stage_id, self._reason.value)

    def process(self, joined):
        _, grouped = joined
        keepers = sorted(grouped["drop"])
        for doc in grouped["doc"]:
            if keepers:
                self._dropped.inc()
                detail = f"duplicate of {keepers[0]}"
                yield beam.pvalue.TaggedOutput(_REJECTED, Rejection.of(doc, self._stage_id, self._reason, detail, self._keep_text))
            else:  # a hash collision routed it here
                self._kept.inc()
                yield doc


class DropByIds(beam.PTransform):
    """docs + (id, kept id) drops -> FilterResult: the documents whose id is not in the drops."""

    def __init__(self, stage_id: str, reason: DedupReason, drops, keep_text: bool):
        super().__init__()
        self._stage_id, self._reason, self._drops, self._keep_text = stage_id, reason, drops, keep_text

    def expand(self, docs):
        split = join_named(docs, self._drops, self._stage_id)
        out = split.joined | "Decide" >> beam.ParDo(_Join(self._stage_id, self._reason, self._keep_text)).with_outputs(_REJECTED, main="kept")
        kept = (split.untouched, out.kept) | "Kept" >> beam.Flatten()
        empty = docs.pipeline | "NoSkips" >> beam.Create([])
        return FilterResult(kept=kept, rejected=out[_REJECTED], skipped=empty)


def _all_but_smallest(group):
    """(key, ids) -> (id, smallest id) for every id but the smallest."""
    _, ids = group
    ids = sorted(set(ids))
    for other in ids[1:]:
        yield other, ids[0]


class DropExactDuplicates(beam.PTransform):
    def __init__(self, cfg: DedupConfig, keep_text: bool):
        super().__init__(label=f"Dedup[{EXACT_STAGE}]")
        self._cfg = cfg
        self._keep_text = keep_text

    def expand(self, docs):
        cfg = self._cfg
        drops = (
            docs
            | "Key" >> beam.Map(lambda d: ((scope_of(d, cfg), exact_key(d.text, cfg.exact)), d.id))
            | "GroupByHash" >> beam.GroupByKey()
            | "Losers" >> beam.FlatMap(_all_but_smallest)
        )
        return docs | DropByIds(EXACT_STAGE, DedupReason.EXACT_DUPLICATE, drops, self._keep_text)
