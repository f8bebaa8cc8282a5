"""What the report needs from inside the pipeline, as side inputs of the run's last step.

    histograms  ((score, language or "*", bin), count), counted right after each annotating step
                over every document that reached it (so documents rejected later count too)
    examples    ((stage, reason), the k smallest ids with their detail and an excerpt), and the
                same per dead-letter reason
    volumes     (stage, documents in, characters in, documents out, characters out); each stage
                prints one progress line when its input and output are complete

All are combines over fixed keys (sums, smallest k by id), so their results depend neither on
bundle order nor on the number of workers or the runner. Each is one combine (one shuffle): every
extra fused step costs the DirectRunner tens of milliseconds, whatever its size.
"""

import sys
import time
from typing import Any, NamedTuple

import apache_beam as beam

from pipeline.report import scores

EXAMPLES_PER_REASON = 3
EXCERPT_CHARS = 300
DEAD_LETTERS = "dead letters"  # the "stage" of dead-letter examples


class ReportData(NamedTuple):
    """The side inputs' values, as _WriteStats receives them."""

    histograms: list  # [((score key, lang or "*", bin), count)]
    examples: list  # [((stage, reason), [(id, source, lang, detail, excerpt, chars)])]
    volumes: list  # [(stage, docs in, chars in, docs out, chars out)]


def excerpt(text: str | None) -> str | None:
    if text is None:
        return None
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"


class _Histograms(beam.CombineFn):
    """(annotating step, document) -> sorted [((score key, lang or "*", bin), count)]. The runner
    lifts the combine: a dict of counts per bundle travels, not an element per score."""

    def create_accumulator(self) -> dict:
        return {}

    def add_input(self, counts: dict, step_doc) -> dict:
        for key, n in scores.binned(step_doc[1], step_doc[0]):
            counts[key] = counts.get(key, 0) + n
        return counts

    def merge_accumulators(self, accumulators) -> dict:
        merged: dict = {}
        for counts in accumulators:
            for key, n in counts.items():
                merged[key] = merged.get(key, 0) + n
        return merged

    def extract_output(self, counts: dict) -> list:
        return sorted(counts.items())


def histograms(annotated: list[tuple[str, Any]]):
    """[(annotating stage id, documents right after it)] -> side input [((key, lang, bin), count)]."""
    tagged = [docs | f"Report/Scored[{step}]" >> beam.Map(lambda d, s: (s, d), step) for step, docs in annotated]
    counted = tagged | "Report/AllScored" >> beam.Flatten() | "Report/Histograms" >> beam.CombineGlobally(_Histograms()).without_defaults()
    return beam.pvalue.AsSingleton(counted, default_value=[])


def _rejection_example(r):
    return (r.stage, r.reason), (r.doc_id, r.source, r.lang or "", r.detail, excerpt(r.text), len(r.text) if r.text is not None else -1)


def _dead_letter_example(d):
    return (DEAD_LETTERS, d.reason), (d.location, d.source or "", "", d.detail, excerpt(d.raw_excerpt), len(d.raw_excerpt))


def examples(rejected, dead):
    """Rejections and dead letters -> side input [((stage, reason), k examples, smallest id first)]."""
    smallest = (
        (
            rejected | "Report/RejectionExamples" >> beam.Map(_rejection_example),
            dead | "Report/DeadLetterExamples" >> beam.Map(_dead_letter_example),
        )
        | "Report/AllExamples" >> beam.Flatten()
        | "Report/SmallestIds" >> beam.combiners.Top.SmallestPerKey(EXAMPLES_PER_REASON)
    )
    return beam.pvalue.AsList(smallest)


class _Volumes(beam.CombineFn):
    """(0 for in, 1 for out; characters) -> (documents in, characters in, documents out, characters out)."""

    def create_accumulator(self) -> tuple[int, int, int, int]:
        return 0, 0, 0, 0

    def add_input(self, acc, side_chars):
        side, chars = side_chars
        return (acc[0] + 1, acc[1] + chars, acc[2], acc[3]) if side == 0 else (acc[0], acc[1], acc[2] + 1, acc[3] + chars)

    def merge_accumulators(self, accumulators):
        return tuple(map(sum, zip(*accumulators)))

    def extract_output(self, acc):
        return acc


def _short(n: int) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


class _Progress(beam.DoFn):
    """Runs once per stage, when the stage's input and output are complete (a global combine fires
    once): prints one line and passes the stage's volumes on.

    Stages that the runner fuses into one step (on the DirectRunner: reading, language and the
    quality gates) finish together, so their lines come together and in any order; each says
    which stage of how many it is. Chaining the lines in stage order (each waiting on the one
    before as a side input) was tried: the runner then interleaves the waiting lines with other
    work, and on a large run a line could trail its stage by minutes."""

    def __init__(self, stage: str, position: str, started: float):
        self._stage = stage
        self._position = position
        self._started = started

    def process(self, volumes):
        docs_in, chars_in, docs_out, chars_out = volumes
        print(
            f"  [{time.time() - self._started:6.1f}s] {self._position} {self._stage:<29} {docs_in:>10,} -> {docs_out:>10,} documents"
            f" (-{docs_in - docs_out:,}), {_short(chars_in)} -> {_short(chars_out)} characters",
            file=sys.stdout,
            flush=True,
        )
        yield self._stage, docs_in, chars_in, docs_out, chars_out


def volumes(flow: list[tuple[str, Any, Any]], started: float):
    """[(stage id, documents in, documents out)] -> side input [(stage, docs in, chars in, docs
    out, chars out)], printing a line per stage as it completes (a stage no document reached
    prints none, and the report counts it as zero). Characters, not tokens: tokens exist only
    after tokenization, at the end."""
    parts = []
    for i, (stage, docs_in, docs_out) in enumerate(flow):
        label = f"Report/Volume[{stage}]"
        sizes = (
            docs_in | f"{label}/In" >> beam.Map(lambda d: (0, len(d.text))),
            docs_out | f"{label}/Out" >> beam.Map(lambda d: (1, len(d.text))),
        ) | f"{label}/Both" >> beam.Flatten()
        position = f"{i + 1:>{len(str(len(flow)))}}/{len(flow)}"
        parts.append(
            sizes
            | f"{label}/Sum" >> beam.CombineGlobally(_Volumes()).without_defaults()
            | f"{label}/Progress" >> beam.ParDo(_Progress(stage, position, started))
        )
    return beam.pvalue.AsList(parts | "Report/AllVolumes" >> beam.Flatten())
