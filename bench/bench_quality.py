"""Throughput of our quality family vs datatrove's four filters, one worker, same documents.

    python -m bench.bench_quality [--repeat 3] [--profile]

Corpus: the English documents of bench.compare_quality_datatrove (in memory, loading untimed).
Every family applies to every source (apply {"*": [the four prose families]}). Timings, each the
best of --repeat runs in this one process:
  ours            per batch of 64, the steps of pipeline.stages.quality.quality_steps in order
                  (signals, gates, C4 cleaning with its signals, gates), early exit: a rejected
                  document skips the later steps;
  datatrove       GopherRepetition -> GopherQuality -> C4Quality -> FineWebQuality `filter(doc)`
                  per document, a dropped document skips the later filters (its pipeline's early
                  exit); calling `filter` directly leaves out datatrove's per-step stats: a lower
                  bound on its cost;
  ... no early exit: every family on every document, both sides (the work then does not depend
                  on the drop rate);
  ours, Beam      the real path on the DirectRunner, one worker: ReadDocuments from a JSONL.gz of
                  the same documents, then the quality steps as pipeline.graph.apply_stages wires
                  them (minus language ID); timed with and without the quality steps, wall clock
                  including building and running the pipeline (beam.Create is not used: it
                  pickles and bz2-compresses its whole input, seconds that a real run never pays);
  str.split       over the same texts: a lower-bound anchor.
Peak memory: tracemalloc's peak over one extra untimed run of each in-memory variant.
Writes bench/results/quality_throughput.md (git-ignored) and prints it.
"""

import argparse
import gzip
import json
import os
import tempfile

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions

from bench.common import require_peers

require_peers()  # one line naming the install, not an ImportError
# ruff: isort: split
from datatrove.data import Document as DTDocument
from datatrove.pipeline.filters import C4QualityFilter, FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter
from datatrove.utils.text import split_into_parts

from bench.common import RESULTS_DIR, best_of, command_line, header, peak_mib, profile_top, write_report
from bench.quality_steps import QualitySteps
from bench.sample_english import english_docs
from pipeline.beam_fixes import direct_runner
from pipeline.config import ReadConfig
from pipeline.io.read import ReadDocuments
from pipeline.records import Document
from pipeline.stages.base import Annotate, Filter
from pipeline.stages.quality import quality_steps
from pipeline.text.quality.c4 import C4Config
from pipeline.text.quality.config import QualityConfig

RESULTS = os.path.join(RESULTS_DIR, "quality_throughput.md")
FAMILIES = ["gopher_repetition", "gopher_quality", "c4", "fineweb"]
# C4 as datatrove's C4QualityFilter() runs it (the paper's terminal-punctuation line rule on).
CFG = QualityConfig(apply={"*": FAMILIES}, c4=C4Config(drop_lines_without_terminal_punct=True))
BATCH = CFG.batch_size  # 64
TARGET = 10.0  # ours must run >= 10x datatrove


def datatrove_filters():
    return [GopherRepetitionFilter(), GopherQualityFilter(), C4QualityFilter(), FineWebQualityFilter()]


def run_datatrove(filters, docs: list[Document], early_exit: bool = True) -> int:
    split_into_parts.cache_clear()  # its 5-entry tokenization cache: no carry-over between runs
    kept = 0
    for doc in docs:
        d, keep = DTDocument(text=doc.text, id=doc.id), True
        for f in filters:
            result = f.filter(d)
            keep = keep and (result[0] if isinstance(result, tuple) else bool(result))
            if not keep and early_exit:
                break
        kept += keep
    return kept


def run_beam(corpus: str, n_docs: int, quality: bool = True) -> int:
    """Reads `corpus` (JSONL.gz of the same documents) with ReadDocuments, then the quality steps
    exactly as pipeline.graph.apply_stages wires them (minus language ID: every document is "en",
    as in the in-memory variants). quality=False: read and count only, the Beam baseline."""
    options = PipelineOptions(["--runner=DirectRunner", "--direct_num_workers=1", "--direct_running_mode=in_memory"])
    p = beam.Pipeline(runner=direct_runner(options), options=options)
    pcoll = (p | ReadDocuments([corpus], ReadConfig()))["documents"] | beam.Map(lambda d: d.replace(lang="en"))
    outputs = []
    for step in quality_steps(CFG) if quality else []:
        if hasattr(step, "annotate"):
            pcoll = pcoll | Annotate(step, batch_size=BATCH)
        else:
            result = pcoll | Filter(step, keep_rejected_text=True)
            outputs.append(result.rejected)
            pcoll = result.kept
    rejected = (outputs or [p | "NoRejections" >> beam.Create([])]) | beam.Flatten()
    for name, out in (("kept", pcoll), ("rejected", rejected)):
        _ = (
            out
            | f"Count{name}" >> beam.combiners.Count.Globally()
            | f"Report{name}" >> beam.Map(lambda n, name=name: Metrics.counter("bench", name).inc(n))
        )
    outcome = p.run()
    outcome.wait_until_finish()
    counters = {c.key.metric.name: c.committed for c in outcome.metrics().query(MetricsFilter().with_namespace("bench"))["counters"]}
    assert counters.get("kept", 0) + counters.get("rejected", 0) == n_docs, counters
    return counters.get("kept", 0)


def write_corpus(docs: list[Document], path: str) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps({"id": d.id, "text": d.text, "source": d.source}, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="append cProfile's top functions of ours and datatrove")
    args = parser.parse_args()

    docs = english_docs()
    texts = [d.text for d in docs]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    ours, theirs = QualitySteps(CFG, BATCH), datatrove_filters()
    tmp = tempfile.mkdtemp()
    corpus = os.path.join(tmp, "corpus.jsonl.gz")
    write_corpus(docs, corpus)
    ours.run(docs[:50]), run_datatrove(theirs, docs[:50]), run_beam(corpus, len(docs))  # warm-up: spaCy load, imports

    variants = {
        "str.split (anchor)": lambda: sum(len(t.split()) for t in texts),
        "ours, early exit": lambda: ours.run(docs),
        "datatrove, early exit": lambda: run_datatrove(theirs, docs),
        "ours, no early exit": lambda: ours.run(docs, early_exit=False),
        "datatrove, no early exit": lambda: run_datatrove(theirs, docs, early_exit=False),
        "Beam DirectRunner (1 worker): read + count only": lambda: run_beam(corpus, len(docs), quality=False),
        "ours, Beam DirectRunner (1 worker): read + quality": lambda: run_beam(corpus, len(docs)),
    }
    timings = {name: best_of(args.repeat, fn) for name, fn in variants.items()}
    kept_ours, kept_dt = timings["ours, early exit"][1], timings["datatrove, early exit"][1]
    beam_total = timings["ours, Beam DirectRunner (1 worker): read + quality"]
    beam_read = timings["Beam DirectRunner (1 worker): read + count only"][0]
    assert beam_total[1] == kept_ours, "Beam path and in-memory path keep different documents"
    memory = {name: peak_mib(variants[name]) for name in ("ours, early exit", "datatrove, early exit")}

    out = header("Quality family throughput vs datatrove, one worker", command_line("bench.bench_quality", parser, args)) + [
        f"- corpus: {len(docs)} English documents, {mb:.2f} MB of text (UTF-8), in memory; best of {args.repeat}; batches of {BATCH}",
        f"- kept: ours {kept_ours}, datatrove {kept_dt} (of {len(docs)}, default thresholds, chained)",
        "",
        "| variant | seconds | MB/s | docs/s | x datatrove (same exit policy) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, (seconds, _) in timings.items():
        ref = "datatrove, no early exit" if "no early exit" in name else "datatrove, early exit"
        out.append(f"| {name} | {seconds:.3f} | {mb / seconds:.2f} | {len(docs) / seconds:,.0f} | {timings[ref][0] / seconds:.1f} |")
    beam_quality = beam_total[0] - beam_read  # derived: the quality steps' share of the Beam run
    out.append(
        f"| ours, Beam: quality steps alone (read+quality minus read) | {beam_quality:.3f} | {mb / beam_quality:.2f} | "
        f"{len(docs) / beam_quality:,.0f} | {timings['datatrove, early exit'][0] / beam_quality:.1f} |"
    )
    ratio = timings["datatrove, early exit"][0] / timings["ours, early exit"][0]
    ratio_all = timings["datatrove, no early exit"][0] / timings["ours, no early exit"][0]
    out += [
        "",
        "Peak traced memory (tracemalloc, one untimed run): " + ", ".join(f"{k} {v:.1f} MiB" for k, v in memory.items()),
        "",
        f"Target: ours >= {TARGET:g}x datatrove: {'met' if min(ratio, ratio_all) >= TARGET else 'NOT met'} "
        f"(early exit {ratio:.1f}x, no early exit {ratio_all:.1f}x).",
    ]
    if args.profile:
        out += [
            "",
            "## cProfile, ours (early exit), top by own time",
            "",
            "```",
            profile_top(lambda: ours.run(docs)).strip(),
            "```",
            "",
            "## cProfile, datatrove (early exit), top by own time",
            "",
            "```",
            profile_top(lambda: run_datatrove(theirs, docs)).strip(),
            "```",
        ]
    write_report(RESULTS, "\n".join(out) + "\n")


if __name__ == "__main__":
    main()
