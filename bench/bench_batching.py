"""How documents travel through per-document stages: our chain against Beam's batched DoFns.

    python -m bench.bench_batching [--scale 2] [--repeat 2]

The same steps (the default config's language and quality stages: fastText, the Gopher, C4,
FineWeb and code rules, each gate deciding per document) run four ways on the DirectRunner, one
worker in memory, reading the built-in sample written --scale times over (.jsonl.gz files, through
ReadDocuments):
  read only       ReadDocuments -> count: what every variant pays before its steps;
  per element     one DoFn per step, one call per document per step (the first version's shape;
                  annotators called on one-document lists);
  chain           pipeline.stages.chain.RunChain, what the pipeline runs: fixed-size batches
                  (BatchElements), one DoFn call per batch for every step, with the rejections
                  and the report's counts (histograms, volumes) coming out of the same pass;
  process_batch   one Beam batched DoFn (`process_batch` on List[Document], Beam's
                  ListBatchConverter forms the batches, up to 4,096 documents) that runs the
                  same steps and yields the kept documents. It emits no rejections and no counts
                  (a batched DoFn has no tagged outputs), so it does less than the chain.
Each variant is timed from building the pipeline to its end (best of --repeat, the variants taken
in turns) and shown minus
read only: the steps' own cost, as MB/s and as a ratio to the chain.
Writes bench/results/batching.md (git-ignored) and prints it.
"""

import argparse
import glob
import os
import tempfile
from collections.abc import Iterator

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from bench.bench_langid import SAMPLE_GLOB, load_texts
from bench.common import RESULTS_DIR, best_of_each, header, write_report
from pipeline.beam_fixes import direct_runner
from pipeline.beam_overhead import cut_fixed_costs
from pipeline.config import PipelineConfig
from pipeline.io.read import ReadDocuments
from pipeline.records import Document
from pipeline.report.scores import count_bins
from pipeline.stages import language, quality
from pipeline.stages.chain import RunChain, verdicts

RESULTS = os.path.join(RESULTS_DIR, "batching.md")


class _Collect:
    """Stands in for the StageGraph: keeps the steps a stage's builder adds."""

    def __init__(self):
        self.steps = []

    def add_steps(self, label, steps):
        self.steps += steps


def chain_steps(cfg: PipelineConfig) -> list:
    collect = _Collect()
    language.build(collect, cfg)
    quality.build(collect, cfg)
    return collect.steps


class _EachStep(beam.DoFn):
    """One step, one document per call."""

    def __init__(self, step):
        self._stage = step.stage

    def setup(self):
        self._stage.setup()

    def process(self, doc):
        if hasattr(self._stage, "annotate"):
            yield self._stage.annotate([doc])[0]
            return
        for kept, verdict in verdicts(self._stage, [doc]):
            if verdict.reason is None:
                yield kept


class _BatchedSteps(beam.DoFn):
    """Every step on a batch Beam formed; the kept documents out."""

    def __init__(self, steps):
        self._steps = steps

    def setup(self):
        for step in self._steps:
            step.stage.setup()

    def infer_output_type(self, input_type):
        return Document  # the element type of the batches yielded (Beam needs it for the converter)

    def process_batch(self, batch: list[Document]) -> Iterator[list[Document]]:
        docs = list(batch)
        for step in self._steps:
            stage = step.stage
            if hasattr(stage, "annotate"):
                size = step.batch_size or len(docs) or 1
                docs = [d for i in range(0, len(docs), size) for d in stage.annotate(docs[i : i + size])]
            else:
                docs = [kept for kept, verdict in verdicts(stage, docs) if verdict.reason is None]
        yield docs


def run(pattern: str, cfg: PipelineConfig, variant: str) -> None:
    options = PipelineOptions(["--runner=DirectRunner", "--direct_num_workers=1", "--direct_running_mode=in_memory"])
    with beam.Pipeline(runner=direct_runner(options), options=options) as p:
        docs = (p | ReadDocuments([pattern], cfg.read))["documents"] | "Typed" >> beam.Map(lambda d: d).with_output_types(Document)
        steps = chain_steps(cfg)
        if variant == "per element":
            for i, step in enumerate(steps):
                docs = docs | f"Step{i}" >> beam.ParDo(_EachStep(step)).with_output_types(Document)
        elif variant == "chain":
            batch = max(s.batch_size for s in steps)
            docs = (docs | RunChain("Chain", steps, batch, cfg.output.rejected_text, count_bins)).kept
        elif variant == "process_batch":
            docs = docs | "Batched" >> beam.ParDo(_BatchedSteps(steps)).with_output_types(Document)
        _ = docs | beam.combiners.Count.Globally()


VARIANTS = ("read only", "per element", "chain", "process_batch")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_batching", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=2, help="copies of the sample in the input")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    cfg = PipelineConfig()
    cut_fixed_costs()  # as pipeline.run does
    with tempfile.TemporaryDirectory() as tmp:
        for copy in range(args.scale):
            for path in sorted(glob.glob(SAMPLE_GLOB)):
                with open(path, "rb") as src, open(os.path.join(tmp, f"{copy}-{os.path.basename(path)}"), "wb") as dst:
                    dst.write(src.read())
        pattern = os.path.join(tmp, "*.jsonl.gz")
        texts = load_texts(pattern)
        mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
        seconds = best_of_each(args.repeat, {v: (lambda v=v: run(pattern, cfg, v)) for v in VARIANTS})

    base = seconds["read only"]
    own = {v: max(seconds[v] - base, 1e-9) for v in VARIANTS[1:]}
    command = f"python -m bench.bench_batching --scale {args.scale} --repeat {args.repeat}"
    lines = header("Per-document stages: chain vs Beam's batched DoFns", command, versions=("apache-beam", "fasttext")) + [
        f"- input: the built-in sample x{args.scale}, {len(texts):,} documents, {mb:.2f} MB of text; DirectRunner, 1 worker in memory; best of {args.repeat}",
        f"- steps: {', '.join(type(s.stage).__name__ for s in chain_steps(cfg))}",
        "",
        "| variant | seconds | minus read only | steps' MB/s | steps' speed vs chain |",
        "|---|---:|---:|---:|---:|",
        f"| read only | {base:.2f} | | | |",
    ]
    for v in VARIANTS[1:]:
        lines.append(f"| {v} | {seconds[v]:.2f} | {own[v]:.2f} | {mb / own[v]:.2f} | {own['chain'] / own[v]:.2f} |")
    lines += [
        "",
        "process_batch emits neither rejections nor the report's counts; the chain does both in the same pass.",
    ]
    write_report(RESULTS, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
