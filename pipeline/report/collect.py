"""What the report needs from inside the pipeline, as side inputs of the run's last step.

    histograms  ((score, language or "*", bin), count), counted right after each annotating step
                over every document that reached it (so documents rejected later count too)
    examples    ((stage, reason), the k smallest ids with their detail and an excerpt), and the
                same per dead-letter reason
    volumes     (stage, documents in, characters in, documents out, characters out); each stage
                prints one progress line when its input and output are complete

The stages that run in chains (pipeline.stages.chain) count histograms, volumes and skipped rules
in their own pass, a dict per batch; one combine per chain sums them. The stages between chains
(dedup, the mixture) are counted here from their input and output. All are combines over fixed
keys (sums, smallest k by id), so their results depend neither on bundle order nor on the number
of workers or the runner.
"""

import sys
import time
from typing import Any, NamedTuple

import apache_beam as beam

from pipeline.progress import short_count
from pipeline.report.scores import binned
from pipeline.stages.chain import HIST, SKIP, VOL, MergeCounts
from pipeline.stats import SKIPPED

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


def merge_chain_counts(chains: list[tuple[list[str], Any]]) -> list[tuple[list[str], Any]]:
    """[(gates, counts dict per batch)] -> [(gates, a singleton: the chain's summed counts)];
    a chain no document reached has none."""
    return [
        (gates, counts | f"Report/Chain{i}Counts" >> beam.CombineGlobally(MergeCounts()).without_defaults())
        for i, (gates, counts) in enumerate(chains)
    ]


def skip_counts(counts: dict):
    """A chain's summed counts -> ((SKIPPED, stage, rule, lang), n) events for stats.json."""
    for key, n in counts.items():
        if key[0] == SKIP:
            yield (SKIPPED, *key[1:]), n


def _histogram_rows(counts: dict) -> list:
    return sorted((key[1:], n) for key, n in counts.items() if key[0] == HIST)


def histogram_counts(docs, stage_id: str):
    """The documents a stage outside the chains kept -> its histogram counts, in the chains' format."""
    label = f"Report/Histogram[{stage_id}]"
    return (
        docs
        | f"{label}/Bin" >> beam.FlatMap(binned, stage_id)
        | f"{label}/Sum" >> beam.CombinePerKey(sum)
        | f"{label}/Counts" >> beam.Map(lambda kv: {(HIST, *kv[0]): kv[1]})
    )


def histograms(chain_counts: list[tuple[list[str], Any]], others: list[Any]):
    """The chains' summed counts and the other stages' histogram counts -> side input
    [((key, lang, bin), count)], sorted."""
    merged = (
        [counts for _, counts in chain_counts] + others
        | "Report/AllChainCounts" >> beam.Flatten()
        | "Report/Histograms" >> beam.CombineGlobally(MergeCounts()).without_defaults()
        | "Report/HistogramRows" >> beam.Map(_histogram_rows)
    )
    return beam.pvalue.AsSingleton(merged, default_value=[])


def _rejection_example(r):
    return (r.stage, r.reason), (r.doc_id, r.source, r.lang or "", r.detail, excerpt(r.text), len(r.text) if r.text is not None else -1)


def _dead_letter_example(d):
    return (DEAD_LETTERS, d.reason), (d.location, d.source or "", "", d.detail, excerpt(d.raw_excerpt), len(d.raw_excerpt))


def examples(rejected: tuple, dead):
    """Rejection collections (one per stage) and dead letters -> side input [((stage, reason), k
    examples, smallest id first)]."""
    smallest = (
        (
            *(part | f"Report/RejectionExamples[{i}]" >> beam.Map(_rejection_example) for i, part in enumerate(rejected)),
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


def _progress_line(started: float, position: str, stage: str, volumes) -> str:
    docs_in, chars_in, docs_out, chars_out = volumes
    return (
        f"  [{time.time() - started:6.1f}s] {position} {stage:<29} {docs_in:>10,} -> {docs_out:>10,} documents"
        f" (-{docs_in - docs_out:,}), {short_count(chars_in)} -> {short_count(chars_out)} characters"
    )


class _Progress(beam.DoFn):
    """Runs once per stage (or chain of stages), when its input and output are complete (a
    global combine fires once): prints a line per stage and passes the stages' volumes on.

    Stages that the runner fuses into one step (on the DirectRunner: reading, language and the
    quality gates) finish together, so their lines come together and in any order; each says
    which stage of how many it is. Chaining the lines in stage order (each waiting on the one
    before as a side input) was tried: the runner then interleaves the waiting lines with other
    work, and on a large run a line could trail its stage by minutes."""

    def __init__(self, stages: list[str], positions: list[str], started: float):
        self._stages = stages
        self._positions = positions
        self._started = started

    def process(self, volumes_by_stage: dict):
        for stage, position in zip(self._stages, self._positions):
            volumes = volumes_by_stage.get(stage)
            if volumes is None or volumes[0] == 0:
                continue  # no document reached it: no line, and the report counts it as zero
            print(_progress_line(self._started, position, stage, volumes), file=sys.stdout, flush=True)
            yield (stage, *volumes)


def _chain_volumes(counts: dict) -> dict:
    return {key[1]: value for key, value in counts.items() if key[0] == VOL}


def volumes(chain_counts: list[tuple[list[str], Any]], flow: list[tuple[str, Any, Any]], stage_ids: list[str], started: float):
    """Chained stages' volumes from their counts, and [(stage id, documents in, documents out)]
    for the others -> side input [(stage, docs in, chars in, docs out, chars out)], printing a
    line per stage as it completes. Characters, not tokens: tokens exist only after
    tokenization, at the end."""
    width = len(str(len(stage_ids)))
    position = {stage: f"{i + 1:>{width}}/{len(stage_ids)}" for i, stage in enumerate(stage_ids)}
    parts = []
    for i, (gates, counts) in enumerate(chain_counts):
        parts.append(
            counts
            | f"Report/Chain{i}Volumes" >> beam.Map(_chain_volumes)
            | f"Report/Chain{i}Progress" >> beam.ParDo(_Progress(gates, [position[g] for g in gates], started))
        )
    for stage, docs_in, docs_out in flow:
        label = f"Report/Volume[{stage}]"
        sizes = (
            docs_in | f"{label}/In" >> beam.Map(lambda d: (0, len(d.text))),
            docs_out | f"{label}/Out" >> beam.Map(lambda d: (1, len(d.text))),
        ) | f"{label}/Both" >> beam.Flatten()
        parts.append(
            sizes
            | f"{label}/Sum" >> beam.CombineGlobally(_Volumes()).without_defaults()
            | f"{label}/ByStage" >> beam.Map(lambda v, stage: {stage: v}, stage)
            | f"{label}/Progress" >> beam.ParDo(_Progress([stage], [position[stage]], started))
        )
    return beam.pvalue.AsList(parts | "Report/AllVolumes" >> beam.Flatten())
