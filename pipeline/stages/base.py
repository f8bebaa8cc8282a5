"""The stage contract: Annotate (adds scores, drops nothing) and Filter (keeps or rejects).

A stage's logic is a small picklable object with no Beam in it: an `Annotator` scores a batch
of documents, a `Gate` decides about one. These transforms wrap them the same way for every
stage: heavy resources are built once per worker in `setup()`, annotation is batched, and every
rejection goes to a tagged output with a Beam counter per (stage, reason).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.shared import Shared

from pipeline.records import Document, Reason, Rejection

REJECTED = "rejected"
SKIPPED = "skipped"


class _Held:
    """A loaded resource, in an object Beam's Shared can hold a weak reference to."""

    def __init__(self, value: Any):
        self.value = value


class WorkerResource:
    """The one way a stage loads something heavy (a model, a tokenizer, word lists): once per
    worker process, on first use, shared by every thread that runs the stage's bundles (Beam's
    Shared, keyed by what was loaded), and never pickled into the graph. `load` must be a
    picklable function (module level), and what it returns safe to call from several threads."""

    def __init__(self, load: Callable[..., Any], *args: Any):
        self._load = load
        self._args = args
        self._shared = Shared()
        self._held: _Held | None = None
        self._key = ""

    def get(self, *extra: Any, key: str = "") -> Any:
        """The loaded resource; `extra` are more arguments for `load` (a side input's value),
        and `key` names them (a digest), so a new value loads anew and a known one is reused."""
        if self._held is None or self._key != key:
            load, args = self._load, (*self._args, *extra)
            tag = f"{load.__module__}.{load.__qualname__}:{self._args!r}:{key}"
            self._held = self._shared.acquire(lambda: _Held(load(*args)), tag=tag)
            self._key = key
        return self._held.value

    def __getstate__(self):
        return {**self.__dict__, "_held": None, "_key": ""}


class Verdict(NamedTuple):
    """A gate's decision: keep (reason None) or reject with a reason and a short detail.
    `skipped` names the rules that had no definition for this document (e.g. a stop-word rule
    for a language without a list): neither passed nor failed, but counted."""

    reason: Reason | None = None
    detail: str = ""
    skipped: tuple[str, ...] = ()


KEEP = Verdict()


class Annotator(Protocol):
    stage_id: str  # versioned, e.g. "language.fasttext.v1"

    def setup(self) -> None:
        """Loads models; called once per worker process before any batch."""

    def annotate(self, docs: list[Document]) -> list[Document]:
        """Returns new documents, one per input, in the same order."""


class Gate(Protocol):
    stage_id: str

    def setup(self) -> None: ...

    def check(self, doc: Document) -> Verdict:
        """Verdict(None) keeps the document; Verdict(reason, detail) rejects it."""


class _AnnotateBatch(beam.DoFn):
    def __init__(self, annotator: Annotator):
        self._annotator = annotator

    def setup(self):
        self._annotator.setup()
        self._annotated = Metrics.counter(self._annotator.stage_id, "annotated")

    def process(self, batch: list[Document]):
        out = self._annotator.annotate(batch)
        if len(out) != len(batch):  # a bug in the stage, never bad input: fail the bundle
            raise RuntimeError(f"{self._annotator.stage_id}: annotate returned {len(out)} docs for {len(batch)}")
        self._annotated.inc(len(out))
        yield from out


class Annotate(beam.PTransform):
    """docs -> the same docs with the annotator's scores; never drops one."""

    def __init__(self, annotator: Annotator, batch_size: int):
        super().__init__(label=f"Annotate[{annotator.stage_id}]")
        self._annotator = annotator
        self._batch_size = batch_size

    def expand(self, docs):
        return (
            docs
            # Batching only groups calls into the model; each document's result does not depend
            # on which batch it landed in, so batch sizes never change the output. Fixed-size
            # batches (a bundle's last one may be smaller): adaptive sizing starts at 1 and ramps
            # up again in every bundle, ~13x more model calls on the sample, ~8% slower end to end.
            | "Batch" >> beam.BatchElements(min_batch_size=self._batch_size, max_batch_size=self._batch_size)
            | "Annotate" >> beam.ParDo(_AnnotateBatch(self._annotator))
        )


@dataclass(frozen=True)
class _GateSettings:
    keep_text: bool


class _ApplyGate(beam.DoFn):
    def __init__(self, gate: Gate, settings: _GateSettings):
        self._gate = gate
        self._settings = settings

    def setup(self):
        self._gate.setup()
        self._counters: dict[str, beam.metrics.metricbase.Counter] = {}
        self._kept = Metrics.counter(self._gate.stage_id, "kept")

    def _count(self, name: str) -> None:
        counter = self._counters.get(name)
        if counter is None:
            counter = self._counters[name] = Metrics.counter(self._gate.stage_id, name)
        counter.inc()

    def process(self, doc: Document):
        verdict = self._gate.check(doc)
        for rule in verdict.skipped:
            self._count(f"skipped.{rule}")
            yield beam.pvalue.TaggedOutput(SKIPPED, (self._gate.stage_id, rule, doc.lang))
        if verdict.reason is None:
            self._kept.inc()
            yield doc
            return
        self._count(verdict.reason.value)
        yield beam.pvalue.TaggedOutput(REJECTED, Rejection.of(doc, self._gate.stage_id, verdict.reason, verdict.detail, self._settings.keep_text))


class FilterResult(NamedTuple):
    kept: beam.PCollection
    rejected: beam.PCollection
    skipped: beam.PCollection  # (stage id, rule, lang) per rule skipped for a document


class Filter(beam.PTransform):
    """docs -> FilterResult(kept docs, Rejections, skipped rules): every input lands in exactly
    one of the first two."""

    def __init__(self, gate: Gate, keep_rejected_text: bool):
        super().__init__(label=f"Filter[{gate.stage_id}]")
        self._gate = gate
        self._settings = _GateSettings(keep_text=keep_rejected_text)

    def expand(self, docs):
        out = docs | "Gate" >> beam.ParDo(_ApplyGate(self._gate, self._settings)).with_outputs(REJECTED, SKIPPED, main="kept")
        return FilterResult(kept=out.kept, rejected=out[REJECTED], skipped=out[SKIPPED])
