"""Entry point: `python -m pipeline.run --runner=DirectRunner [--input GLOB] [--output DIR] [--config YAML]`.

Options and config in, checks that can fail before any work, the graph wired, the run's own
accounting checked at the end. Flags this parser does not know go to Beam (runner options).
"""

import argparse
import datetime
import logging
import os
import sys
import time

from pipeline.config import ConfigError, PipelineConfig, load_config
from schemas import config_sha256

SAMPLE_GLOB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sample", "data", "*.jsonl.gz")


class UsageError(Exception):
    """A bad flag or path; printed as one line, exit status 2."""


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.run",
        description="Turn raw documents into training-ready data. Unknown flags go to Apache Beam (--runner, --direct_num_workers, --project, ...).",
    )
    parser.add_argument("--input", action="append", help="file, folder or glob; repeatable (default: the built-in sample)")
    parser.add_argument("--output", help="run folder (default: runs/<UTC time>)")
    parser.add_argument("--config", help="YAML config; keys left out keep their defaults")
    parser.add_argument("--overwrite", action="store_true", help="replace the outputs of an earlier run in --output")
    return parser.parse_known_args(argv)


def resolve_inputs(inputs: list[str]) -> tuple[list[str], list[str], list[int]]:
    """Each input as a glob (a folder means every file under it), and the files they match with
    their sizes. Fails if one matches nothing."""
    from apache_beam.io.filesystems import FileSystems

    patterns, files, sizes = [], [], []
    for given in inputs:
        pattern = given
        glob = any(c in given for c in "*?[")
        if not glob and "://" not in given and os.path.isdir(given):
            pattern = given.rstrip("/") + "/**"
        elif not glob and "://" in given and given.endswith("/"):  # an object-store "folder"
            pattern = given + "**"
        if "://" not in pattern:
            pattern = os.path.abspath(pattern)
        try:
            matched = FileSystems.match([pattern])[0].metadata_list
        except Exception as e:  # noqa: BLE001
            raise UsageError(f"--input {given}: cannot list it: {e}") from None
        if not matched:
            raise UsageError(f"--input {given}: matches no file")
        patterns.append(pattern)
        files += [m.path for m in matched]
        sizes += [m.size_in_bytes for m in matched]
    return patterns, files, sizes


def unsplittable_large_inputs(cfg: PipelineConfig, files: list[str], sizes: list[int]) -> list[tuple[str, int]]:
    """Compressed inputs larger than read.split_bytes: one worker reads each, whatever the workers."""
    from pipeline.io.split import splittable

    return [
        (f, n)
        for f, n in zip(files, sizes)
        if n > cfg.read.split_bytes and not splittable(f, cfg.read) and f.lower().endswith((".gz", ".gzip", ".zst", ".zstd"))
    ]


def unmatched_source_rules(cfg: PipelineConfig, files: list[str]) -> list[str]:
    """read.source_by_path rules that label no input file: most likely a typo, and every file
    they were meant for would silently get read.default_source."""
    from pipeline.io.parse import path_matches

    return [rule for rule in cfg.read.source_by_path if not any(path_matches(f, rule) for f in files)]


def prepare_output(output: str, overwrite: bool) -> None:
    from apache_beam.io.filesystems import FileSystems

    existing = [m.path for m in FileSystems.match([output.rstrip("/") + "/**"])[0].metadata_list]
    if existing and not overwrite:
        raise UsageError(f"--output {output} already holds {len(existing)} files; pass --overwrite or choose another folder")
    if existing:
        FileSystems.delete(existing)


def check_models(cfg: PipelineConfig) -> None:
    """A missing model stops the run here, not in a worker an hour in: each stage's declared check
    (pipeline.stages.registry), then the tokenizer's."""
    from pipeline.stages import registry, tokenize
    from pipeline.stages.spec import resolve, section_of

    for spec in registry.STAGES:
        if spec.check:
            resolve(spec.check)(section_of(cfg, spec.config))
    if cfg.output.write_tokens:
        tokenize.check_tokenizer(cfg.tokenizer)


class _DropImportNoise(logging.Filter):
    """Beam warns at import that optional GCP client libraries are absent; not the user's concern."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "apitools not found" not in record.getMessage()


def main(argv: list[str] | None = None) -> int:
    args, beam_args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().addFilter(_DropImportNoise())
    from pipeline.stages.web import check_blocklists  # imports Beam, which logs at import: after the filter

    try:
        cfg = load_config(args.config) if args.config else PipelineConfig()
        inputs, files, sizes = resolve_inputs(args.input or [SAMPLE_GLOB])
        output = args.output or os.path.join("runs", datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S"))
        if "://" not in output:
            output = os.path.abspath(output)
        check_models(cfg)
        cfg, warnings = check_blocklists(cfg)
        options = beam_options(beam_args)
        prepare_output(output, args.overwrite)
    except (ConfigError, UsageError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for rule in unmatched_source_rules(cfg, files):
        print(f"warning: read.source_by_path: {rule!r} matches none of the {len(files):,} input files", file=sys.stderr)
    serial = unsplittable_large_inputs(cfg, files, sizes)
    if serial:
        largest = max(serial, key=lambda fs: fs[1])
        print(
            f"warning: {len(serial):,} compressed input(s) larger than read.split_bytes (largest {largest[0]}, {largest[1] / 1e6:,.0f} MB)"
            " are each read by one worker: gzip/zstd cannot be split; smaller files, or uncompressed JSONL/Parquet, use more",
            file=sys.stderr,
        )

    import apache_beam as beam

    from pipeline.beam_fixes import direct_runner, flush_threaded_workers_between_elements
    from pipeline.beam_overhead import cut_fixed_costs
    from pipeline.graph import build_graph, read_stats
    from pipeline.io.parse import format_of
    from pipeline.memory_release import cap_malloc_arenas, release_after_runner_bundles
    from pipeline.report import REPORT_FILE
    from pipeline.stats import summary

    run_info = {"inputs": inputs, "config": cfg.to_dict(), "config_sha256": config_sha256(cfg.to_dict())}
    started = time.monotonic()
    flush_threaded_workers_between_elements()
    cut_fixed_costs()
    cap_malloc_arenas()
    release_after_runner_bundles()
    print(
        f"reading {', '.join(inputs)}\nwriting {output}\nprogress, a line per stage as it completes (stages the runner fuses complete together):",
        flush=True,
    )
    with beam.Pipeline(runner=direct_runner(options), options=options) as p:
        build_graph(p, inputs, output, cfg, run_info, crawl=any(format_of(f, cfg.read) == "warc" for f in files))
    stats = read_stats(output)
    print(summary(stats))
    print(f"report: {output}/{REPORT_FILE}")
    print(f"done in {time.monotonic() - started:.1f}s: {output}")
    return 0 if stats["accounting"]["holds"] else 1


def beam_options(beam_args: list[str]):
    """Beam's options from the leftover flags; a flag Beam does not know either is an error."""
    from apache_beam.options.pipeline_options import PipelineOptions

    options = PipelineOptions(beam_args)
    unknown = _unknown_flags(beam_args)
    if unknown:
        raise UsageError(f"unknown option {unknown[0]} (see --help for ours; Beam's are listed by its PipelineOptions)")
    return options


def _unknown_flags(beam_args: list[str]) -> list[str]:
    from apache_beam.options.pipeline_options import PipelineOptions

    parser = argparse.ArgumentParser(allow_abbrev=False, conflict_handler="resolve")
    for cls in PipelineOptions.__subclasses__() + [PipelineOptions]:
        _add_all(cls, parser)
    _, unknown = parser.parse_known_args(beam_args)
    return [u for u in unknown if u.startswith("-")]


def _add_all(cls, parser) -> None:
    for sub in cls.__subclasses__():
        _add_all(sub, parser)
    cls._add_argparse_args(parser)


if __name__ == "__main__":
    sys.exit(main())
