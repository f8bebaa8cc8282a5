"""RunChain: consecutive per-document stages (annotators and gates) in one pass over a batch.

The first version wrapped every annotator and every gate in a Beam transform of its own, so a
document crossed ~20 DoFn calls, and the report counted it again in a Map per annotating step
and two per gate. Per-element handling was half the run time. Here a batch of documents goes
through the whole chain in one DoFn call: each annotator scores it (in sub-batches of its own
batch size, the granularity its library call was tuned for), each gate splits it into kept
documents and Rejections, and the report's counts come out of the same pass, as one dict per
batch: score histograms after each annotator, documents and characters into and out of each
gate, skipped rules. Nothing about a document's result depends on the batch it travels in, so
the output is the same as stage by stage, whatever the batch boundaries.

    docs -> RunChain(steps) -> ChainResult(kept docs, Rejections, report counts)

Report keys (values are ints, summed across batches; a volume is a 4-tuple summed per position):
    ("hist", score key, language or "*", bin) -> documents
    ("vol", gate stage id) -> (documents in, characters in, documents out, characters out)
    ("skip", gate stage id, rule, language) -> documents
"""

from collections.abc import Callable
from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipeline import progress
from pipeline.memory_release import release_after_worker_bundles
from pipeline.records import Rejection

REJECTED = "rejected"
REPORT = "report"
HIST, VOL, SKIP = "hist", "vol", "skip"


class Step(NamedTuple):
    """One link of a chain: an annotator (with the batch size of its calls), a gate, or a
    selector: select(docs) -> [(document as kept, Verdict)], a gate that may rewrite what it keeps."""

    stage: Any  # an Annotator (annotate), a Gate (check) or a selector (select); see pipeline.stages.base
    batch_size: int = 0  # annotators only


def verdicts(stage, docs: list) -> list:
    """[(document as kept, Verdict)] of a gate (one document at a time) or a selector (the batch)."""
    return stage.select(docs) if hasattr(stage, "select") else [(doc, stage.check(doc)) for doc in docs]


def add_counts(into: dict, counts: dict) -> dict:
    for key, value in counts.items():
        old = into.get(key)
        if old is None:
            into[key] = value
        elif isinstance(value, tuple):
            into[key] = tuple(a + b for a, b in zip(old, value))
        else:
            into[key] = old + value
    return into


class MergeCounts(beam.CombineFn):
    """Report dicts -> their sum, key by key; a dict per batch travels, never one per score."""

    def create_accumulator(self) -> dict:
        return {}

    def add_input(self, acc: dict, counts: dict) -> dict:
        return add_counts(acc, counts)

    def merge_accumulators(self, accumulators) -> dict:
        merged: dict = {}
        for acc in accumulators:
            add_counts(merged, acc)
        return merged

    def extract_output(self, acc: dict) -> dict:
        return acc


class _RunChain(beam.DoFn):
    def __init__(self, steps: list[Step], keep_text: bool, histogram: Callable[[list, str], dict], with_side: bool):
        self._steps = steps
        self._keep_text = keep_text
        self._histogram = histogram  # (docs, annotator stage id) -> {(score key, lang, bin): n}
        self._with_side = with_side
        ids = [step.stage.stage_id for step in steps]
        self._progress = progress.Meter(ids[0] if len(ids) == 1 else f"{ids[0]} to {ids[-1]}")

    def setup(self):
        release_after_worker_bundles()
        for step in self._steps:
            step.stage.setup()
        self._counters: dict[tuple[str, str], Any] = {}

    def _count(self, stage_id: str, name: str, n: int) -> None:
        counter = self._counters.get((stage_id, name))
        if counter is None:
            counter = self._counters[stage_id, name] = Metrics.counter(stage_id, name)
        counter.inc(n)

    def process(self, batch: list, side=None):
        docs = list(batch)
        left = [len(d.text) for d in docs]  # each document's characters as the last gate left it
        counts: dict = {}
        for step in self._steps:
            stage = step.stage
            if hasattr(stage, "annotate"):
                docs = self._annotate(step, docs, side)
                self._add_histograms(counts, docs, stage.stage_id)
                continue
            kept, kept_chars = [], []
            # A gate decides one document at a time; a selector (e.g. HTML extraction) may also
            # rewrite the documents it keeps, and works on the whole batch.
            judged = verdicts(stage, docs)
            if len(judged) != len(docs):  # a bug in the stage, never bad input: fail the bundle
                raise RuntimeError(f"{stage.stage_id}: select returned {len(judged)} verdicts for {len(docs)} docs")
            for doc, verdict in judged:
                for rule in verdict.skipped:
                    skip = (SKIP, stage.stage_id, rule, doc.lang)
                    counts[skip] = counts.get(skip, 0) + 1
                if verdict.reason is None:
                    kept.append(doc)
                    kept_chars.append(len(doc.text))
                    continue
                self._count(stage.stage_id, verdict.reason.value, 1)
                yield beam.pvalue.TaggedOutput(REJECTED, Rejection.of(doc, stage.stage_id, verdict.reason, verdict.detail, self._keep_text))
            if hasattr(stage, "select"):  # a selector's scores (e.g. extracted length) describe what it kept
                self._add_histograms(counts, kept, stage.stage_id)
            self._count(stage.stage_id, "kept", len(kept))
            counts[(VOL, stage.stage_id)] = (len(docs), sum(left), len(kept), sum(kept_chars))
            docs, left = kept, kept_chars
        yield beam.pvalue.TaggedOutput(REPORT, counts)
        yield from docs
        self._progress.advance(batch)

    def _add_histograms(self, counts: dict, docs: list, stage_id: str) -> None:
        if not docs:
            return
        for key, n in self._histogram(docs, stage_id).items():
            hist = (HIST, *key)
            counts[hist] = counts.get(hist, 0) + n

    def _annotate(self, step: Step, docs: list, side) -> list:
        out = []
        size = step.batch_size or len(docs) or 1
        for i in range(0, len(docs), size):
            part = docs[i : i + size]
            scored = step.stage.annotate(part, side) if self._with_side else step.stage.annotate(part)
            if len(scored) != len(part):  # a bug in the stage, never bad input: fail the bundle
                raise RuntimeError(f"{step.stage.stage_id}: annotate returned {len(scored)} docs for {len(part)}")
            out += scored
        self._count(step.stage.stage_id, "annotated", len(out))
        return out


class ChainResult(NamedTuple):
    kept: beam.PCollection  # documents that passed every gate, one element each
    rejected: beam.PCollection  # Rejections
    report: beam.PCollection  # a counts dict per batch (see the module docstring)
    gates: list[str]  # the gates' stage ids, in order


class RunChain(beam.PTransform):
    """docs -> ChainResult. `side`: a singleton side input handed to every annotator as
    annotate(docs, side) (e.g. perplexity's cutoffs); None: annotate(docs)."""

    def __init__(self, label: str, steps: list[Step], batch_size: int, keep_text: bool, histogram: Callable, side=None):
        super().__init__(label=label)
        self._steps = steps
        self._batch_size = batch_size
        self._keep_text = keep_text
        self._histogram = histogram
        self._side = side

    def expand(self, docs):
        fn = _RunChain(self._steps, self._keep_text, self._histogram, with_side=self._side is not None)
        side = [beam.pvalue.AsSingleton(self._side)] if self._side is not None else []
        out = (
            docs
            # Fixed-size batches (a bundle's last one may be smaller): adaptive sizing starts at 1
            # and ramps up again in every bundle.
            | "Batch" >> beam.BatchElements(min_batch_size=self._batch_size, max_batch_size=self._batch_size)
            | "Run" >> beam.ParDo(fn, *side).with_outputs(REJECTED, REPORT, main="kept")
        )
        gates = [s.stage.stage_id for s in self._steps if not hasattr(s.stage, "annotate")]
        return ChainResult(kept=out.kept, rejected=out[REJECTED], report=out[REPORT], gates=gates)
