"""Repeated-paragraph removal (CCNet, Wenzek et al. 2020): lines whose normalised hash occurs in
more than `max_docs` documents are boilerplate (menus, footers, cookie notices) and are removed
from every document; a document left with too little text is rejected.

Only (paragraph hash, id) pairs are shuffled to find the boilerplate and to send each document
the hashes it must drop; the documents holding boilerplate meet that list once, in a join by id,
and the others pass by it (pipeline.stages.route).
"""

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipeline.config import DedupConfig
from pipeline.records import Rejection
from pipeline.stages import registry
from pipeline.stages.base import FilterResult
from pipeline.stages.dedup import DedupReason
from pipeline.stages.route import join_named
from pipeline.text.dedup.paragraphs import paragraph_hashes, remove_paragraphs
from pipeline.text.quality.rules import score_key

PARAGRAPHS_STAGE = registry.PARAGRAPHS_STAGE  # the registry declares every stage id (pipeline.stages.registry)
_REJECTED = "rejected"


def _boilerplate_members(max_docs: int):
    """(paragraph key, ids of the documents holding it) -> (id, hash) when it is boilerplate."""

    def members(group):
        (_, h), ids = group
        # Count only up to max_docs + 1 and iterate again (Beam's grouped values re-iterate):
        # a footer on ten million pages is never a ten-million-id list in memory.
        seen = 0
        for _ in ids:
            seen += 1
            if seen > max_docs:
                break
        if seen > max_docs:
            for doc_id in ids:
                yield doc_id, h

    return members


class _RemoveBoilerplate(beam.DoFn):
    def __init__(self, min_chars: int, keep_text: bool):
        self._min_chars = min_chars
        self._keep_text = keep_text

    def setup(self):
        self._cleaned = Metrics.counter(PARAGRAPHS_STAGE, "cleaned")
        self._dropped = Metrics.counter(PARAGRAPHS_STAGE, DedupReason.BOILERPLATE_ONLY.value)

    def process(self, joined):
        _, grouped = joined
        drop = frozenset(grouped["drop"])
        for doc in grouped["doc"]:
            if not drop:
                yield doc
                continue
            text, lines, chars = remove_paragraphs(doc.text, drop)
            doc = doc.with_scores(
                {score_key(PARAGRAPHS_STAGE, "lines_removed"): float(lines), score_key(PARAGRAPHS_STAGE, "chars_removed"): float(chars)}
            )
            self._cleaned.inc()
            left = len(text.strip())
            if left < self._min_chars:
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
        cfg, p = self._cfg, self._cfg.paragraphs
        sources = frozenset(p.sources)

        def hashes(d):
            if sources and d.source not in sources:
                return []  # neither counted nor cleaned
            scope = d.source if cfg.scope == "source" else ""
            return [((scope, h), d.id) for h in paragraph_hashes(d.text)]

        drops = (
            docs
            | "Hashes" >> beam.FlatMap(hashes)
            | "GroupByParagraph" >> beam.GroupByKey()
            | "Boilerplate" >> beam.FlatMap(_boilerplate_members(p.max_docs))
        )
        split = join_named(docs, drops, PARAGRAPHS_STAGE)
        out = split.joined | "Remove" >> beam.ParDo(_RemoveBoilerplate(p.min_chars_left, self._keep_text)).with_outputs(_REJECTED, main="kept")
        kept = (split.untouched, out.kept) | "Kept" >> beam.Flatten()
        return FilterResult(kept=kept, rejected=out[_REJECTED], skipped=docs.pipeline | "NoSkips" >> beam.Create([]))
