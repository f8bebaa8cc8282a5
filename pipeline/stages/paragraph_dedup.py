"""Repeated-paragraph removal (CCNet, Wenzek et al. 2020): lines whose normalised hash occurs in
more than `max_docs` documents are boilerplate (menus, footers, cookie notices) and are removed
from every document; a document left with too little text is rejected.

Two passes over the documents, and no document and no per-line element is shuffled:

    docs -(batches)-> per scope and shard of the hash range: the batch's distinct paragraph hashes
         and how many of its documents hold each (pipeline.stages.value_counts)
         -GroupByKey, sum per hash-> the hashes held by more than max_docs documents
         -CombineGlobally-> per scope, a sorted uint64 array: the boilerplate set, a side input
    docs (side input: the boilerplate set) -> each document's line hashes looked up in it; the
         lines found are removed in the same fused step

Memory: every worker holds the boilerplate set, 8 bytes per boilerplate paragraph (a corpus's
repeated lines, not all of them); a shard's count step holds 12 bytes per (hash, batch) pair of
its 1/1,024 of the hashes. Between the passes the runner keeps the documents, as for any stage that
reads a side input computed from them.
"""

import apache_beam as beam
import numpy as np
from apache_beam.metrics import Metrics

from pipeline import progress
from pipeline.config import DedupConfig
from pipeline.gather import Gather
from pipeline.records import Rejection
from pipeline.stages import registry, value_counts
from pipeline.stages.base import FilterResult
from pipeline.stages.dedup import DedupReason
from pipeline.text.dedup.paragraphs import line_hashes, paragraph_hashes, remove_paragraphs
from pipeline.text.quality.rules import score_key

PARAGRAPHS_STAGE = registry.PARAGRAPHS_STAGE  # the registry declares every stage id (pipeline.stages.registry)
LINES_REMOVED = score_key(PARAGRAPHS_STAGE, "lines_removed")
CHARS_REMOVED = score_key(PARAGRAPHS_STAGE, "chars_removed")
_REJECTED = "rejected"
_BATCH = 256  # documents whose hashes are counted together


class _CountHashes(beam.DoFn):
    """A batch of documents -> ((scope, shard), (hashes, documents holding each)) per shard."""

    def __init__(self, cfg: DedupConfig):
        self._cfg = cfg
        self._progress = progress.Meter(f"{PARAGRAPHS_STAGE} hashing")

    def process(self, batch):
        sources, by_scope = frozenset(self._cfg.paragraphs.sources), {}
        for doc in batch:
            if not sources or doc.source in sources:  # others are neither counted nor cleaned
                scope = doc.source if self._cfg.scope == "source" else ""
                by_scope.setdefault(scope, []).append(np.array(paragraph_hashes(doc.text), dtype=np.uint64))
        self._progress.advance(batch)
        for scope, hashes in by_scope.items():
            # Each document's hashes are distinct, so a count is the number of documents.
            for shard, part in value_counts.by_shard(*np.unique(np.concatenate(hashes), return_counts=True)):
                yield (scope, shard), part


def _boilerplate(max_docs: int):
    def frequent(group):
        (scope, _), parts = group
        yield scope, value_counts.held_more_than(parts, max_docs)

    return frequent


class _BoilerplateSets(Gather):
    """(scope, uint64 hashes as bytes) -> {scope: sorted distinct uint64 array}."""

    def extract_output(self, acc: list) -> dict:
        by_scope: dict[str, list] = {}
        for scope, values in acc:
            by_scope.setdefault(scope, []).append(values)
        return {scope: value_counts.sorted_set(parts) for scope, parts in sorted(by_scope.items())}


class _RemoveBoilerplate(beam.DoFn):
    def __init__(self, cfg: DedupConfig, keep_text: bool):
        self._cfg = cfg
        self._keep_text = keep_text

    def setup(self):
        self._cleaned = Metrics.counter(PARAGRAPHS_STAGE, "cleaned")
        self._dropped = Metrics.counter(PARAGRAPHS_STAGE, DedupReason.BOILERPLATE_ONLY.value)
        self._sources = frozenset(self._cfg.paragraphs.sources)

    def process(self, doc, boilerplate):
        p = self._cfg.paragraphs
        found = boilerplate.get(doc.source if self._cfg.scope == "source" else "") if boilerplate else None
        if found is None or not len(found) or (self._sources and doc.source not in self._sources):
            yield doc
            return
        hashes = line_hashes(doc.text)
        present = np.array([h for h in hashes if h is not None], dtype=np.uint64)
        drop = frozenset(present[value_counts.holding(present, found)].tolist())
        if not drop:
            yield doc
            return
        text, lines, chars = remove_paragraphs(doc.text, drop, hashes)
        doc = doc.with_scores({LINES_REMOVED: float(lines), CHARS_REMOVED: float(chars)})
        self._cleaned.inc()
        left = len(text.strip())
        if left < p.min_chars_left:
            self._dropped.inc()
            detail = f"{left} characters left after removing {lines} repeated lines"
            yield beam.pvalue.TaggedOutput(_REJECTED, Rejection.of(doc, PARAGRAPHS_STAGE, DedupReason.BOILERPLATE_ONLY, detail, self._keep_text))
        else:
            yield doc.replace(text=text)


class RemoveRepeatedParagraphs(beam.PTransform):
    def __init__(self, cfg: DedupConfig, keep_text: bool):
        super().__init__(label=f"Dedup[{PARAGRAPHS_STAGE}]")
        self._cfg = cfg
        self._keep_text = keep_text

    def expand(self, docs):
        cfg = self._cfg
        boilerplate = (
            docs
            | "Batch" >> beam.BatchElements(min_batch_size=_BATCH, max_batch_size=_BATCH)
            | "CountHashes" >> beam.ParDo(_CountHashes(cfg))
            | "GroupByShard" >> beam.GroupByKey()
            | "Boilerplate" >> beam.FlatMap(_boilerplate(cfg.paragraphs.max_docs))
            | "BoilerplateSets" >> beam.CombineGlobally(_BoilerplateSets()).without_defaults()  # none: the default below
        )
        out = docs | "Remove" >> beam.ParDo(
            _RemoveBoilerplate(cfg, self._keep_text), beam.pvalue.AsSingleton(boilerplate, default_value=None)
        ).with_outputs(_REJECTED, main="kept")
        return FilterResult(kept=out.kept, rejected=out[_REJECTED], skipped=docs.pipeline | "NoSkips" >> beam.Create([]))
