"""Mixture weighting in Beam: plan the per-source rates once, then give every document its copies.

tokenized -> PlanMixture    a singleton MixturePlan: per-source SourcePlan (pipeline/mixture.py),
                            expected tokens and the number of shards
tokenized -> AssignCopies   rows (shard, order key, ShardRow) for every copy; the documents
                            with at least one copy (kept); Rejections for those with none
"""

import math
from typing import NamedTuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipeline.config import MixtureConfig
from pipeline.mixture import SourcePlan, bucket_of, doc_hash, plan_mixture
from pipeline.records import Reason, Rejection
from pipeline.stages.tokenize import TokenizedDoc
from schemas.tokens import ShardRow

STAGE = "mixture.v1"
KEPT = "kept"
REJECTED = "rejected"
_SHUFFLE_SALT = "shard-order"


class MixtureReason(Reason):
    DOWNSAMPLED = "mixture_downsampled"
    NOT_IN_SHARES = "mixture_not_in_shares"


class MixturePlan(NamedTuple):
    sources: dict[str, SourcePlan]
    unit: str
    expected_tokens: int
    shards: int


def units(item: TokenizedDoc, unit: str) -> int:
    return len(item.ids) if unit == "tokens" else item.utf8_bytes


class PlanMixture(beam.PTransform):
    """tokenized -> a singleton MixturePlan. It depends on sums per source and per hash bucket
    only, never on the order documents arrive in."""

    def __init__(self, cfg: MixtureConfig, tokens_per_shard: int, seed: int):
        super().__init__()
        self._cfg = cfg
        self._tokens_per_shard = tokens_per_shard
        self._seed = seed

    def expand(self, tokenized):
        cfg, per_shard, seed = self._cfg, self._tokens_per_shard, self._seed
        unit = cfg.unit

        def by_source(pairs_label, fn):
            return (
                tokenized
                | f"{pairs_label}Pairs" >> beam.Map(fn)
                | f"Sum{pairs_label}" >> beam.CombinePerKey(sum)
                | f"{pairs_label}Dict" >> beam.combiners.ToDict()
            )

        available = by_source("Units", lambda t: (t.doc.source, units(t, unit)))
        tokens = by_source("Tokens", lambda t: (t.doc.source, len(t.ids)))
        histograms = (
            tokenized
            | "BucketUnits" >> beam.Map(lambda t: ((t.doc.source, bucket_of(doc_hash(seed, t.doc.id))), units(t, unit)))
            | "SumBuckets" >> beam.CombinePerKey(sum)
            | "BySource" >> beam.Map(lambda kv: (kv[0][0], (kv[0][1], kv[1])))
            | "GroupBuckets" >> beam.GroupByKey()
            | "Histogram" >> beam.Map(lambda kv: (kv[0], dict(kv[1])))
            | "HistogramDict" >> beam.combiners.ToDict()
        )

        def make(_, available, tokens, histograms) -> MixturePlan:
            epochs = {s: cfg.epochs_for(s) for s in set(cfg.shares) | set(available)}
            plans = plan_mixture(available, histograms, dict(cfg.shares), epochs, cfg.target_total)
            expected = round(sum(p.rate * tokens.get(s, 0) for s, p in plans.items()))
            return MixturePlan(plans, unit, expected, max(1, math.ceil(expected / per_shard)))

        return (
            tokenized.pipeline
            | "PlanOnce" >> beam.Create([None])
            | "Plan" >> beam.Map(make, beam.pvalue.AsSingleton(available), beam.pvalue.AsSingleton(tokens), beam.pvalue.AsSingleton(histograms))
        )


class _AssignCopies(beam.DoFn):
    def __init__(self, seed: int, keep_text: bool):
        self._seed = seed
        self._keep_text = keep_text

    def setup(self):
        self._rows = Metrics.counter(STAGE, "rows")
        self._dropped = Metrics.counter(STAGE, "dropped")

    def process(self, item: TokenizedDoc, plan: MixturePlan):
        doc = item.doc
        source = plan.sources.get(doc.source)
        copies = source.copies(doc_hash(self._seed, doc.id)) if source is not None else 0
        if copies == 0:
            self._dropped.inc()
            reason = MixtureReason.DOWNSAMPLED if source is not None and source.rate > 0 else MixtureReason.NOT_IN_SHARES
            detail = f"rate={source.rate:.4f}" if source is not None else "source not in mixture.shares"
            yield beam.pvalue.TaggedOutput(REJECTED, Rejection.of(doc, STAGE, reason, detail, self._keep_text))
            return
        self._rows.inc(copies)
        yield beam.pvalue.TaggedOutput(KEPT, doc)
        for copy in range(copies):
            # Rows go to shards, and are ordered within them, by a hash: every shard is a fair
            # sample of the mixture, and copies of a document land far apart.
            key = doc_hash(self._seed, f"{doc.id}\x00{copy}", _SHUFFLE_SALT)
            yield key % plan.shards, (key, ShardRow(doc_id=doc.id, source=doc.source, tokens=item.ids, copy=copy), units(item, plan.unit))


class CopiesResult(NamedTuple):
    rows: beam.PCollection  # (shard index, (order key, ShardRow, units))
    kept: beam.PCollection  # Documents with at least one copy
    rejected: beam.PCollection  # Rejections


class AssignCopies(beam.PTransform):
    def __init__(self, plan, seed: int, keep_text: bool):
        super().__init__()
        self._plan = plan
        self._seed = seed
        self._keep_text = keep_text

    def expand(self, tokenized):
        out = tokenized | "Copies" >> beam.ParDo(_AssignCopies(self._seed, self._keep_text), beam.pvalue.AsSingleton(self._plan)).with_outputs(
            KEPT, REJECTED, main="rows"
        )
        return CopiesResult(rows=out.rows, kept=out[KEPT], rejected=out[REJECTED])
