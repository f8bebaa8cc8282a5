"""Helpers shared by the benchmark scripts: the report header, timing, profiling, memory, writing."""

import argparse
import cProfile
import datetime
import io
import os
import platform
import pstats
import subprocess
import time
import tracemalloc
from importlib.metadata import PackageNotFoundError, version

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS_DIR = os.path.join(ROOT, "bench", "results")  # git-ignored
# The packages the quality and dedup benchmarks compare against or run on.
DEFAULT_VERSIONS = ("datatrove", "spacy", "numpy", "apache-beam")


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{platform.platform()}; {cpu}; {os.cpu_count()} cores; Python {platform.python_version()}"


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        out = ""
    return out or "?"


def header(title: str, command: str, versions=DEFAULT_VERSIONS) -> list[str]:
    """The report's title and its date, machine, versions (`versions`: distribution names, then
    our git commit) and command lines."""
    return [
        f"# {title}",
        "",
        f"- date: {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {machine()}",
        f"- versions: {', '.join(f'{d} {_version(d)}' for d in versions)}, ours {_commit()} (+ working tree)",
        f"- command: `{command}`",
    ]


def command_line(module: str, parser: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    """`python -m module` plus every option whose value differs from its default."""
    out = f"python -m {module}"
    for dest, value in vars(args).items():
        if value != parser.get_default(dest):
            out += f" --{dest.replace('_', '-')}" + ("" if isinstance(value, bool) else f" {value}")
    return out


def best_of(repeat: int, fn) -> tuple[float, object]:
    """(the fastest of `repeat` calls of fn in seconds, the last call's result)."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def best_of_each(repeat: int, fns: dict) -> dict:
    """{name: the fastest of `repeat` calls of fn in seconds} for {name: fn}, the calls taken
    in turns (every fn once, then again): a slow spell of a shared machine then lands on every
    variant alike instead of on one, which keeps the ratios between them honest."""
    best = {name: float("inf") for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def peak_mib(fn) -> float:
    """tracemalloc's peak over one call of fn, in MiB."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def profile_top(fn, n: int = 15, sort=("tottime",)) -> str:
    """cProfile one call of fn; its top n functions for each key of `sort`, as text."""
    profiler = cProfile.Profile()
    profiler.runcall(fn)
    buf = io.StringIO()
    for key in sort:
        pstats.Stats(profiler, stream=buf).sort_stats(key).print_stats(n)
    return buf.getvalue()


def write_report(path: str, text: str) -> None:
    """Write the report to `path` (making its folder) and print it."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    print(text)


# Lists handed to from_memory, by id: read back by the pipeline's workers in this same process.
_IN_MEMORY: dict[int, list] = {}


def _memory_slice(item: tuple[int, int, int]) -> list:
    key, start, stop = item
    return _IN_MEMORY[key][start:stop]


def from_memory(pipeline, items: list, chunk: int = 1000):
    """A PCollection of `items` (a Python list) for a pipeline run in this process (DirectRunner
    with --direct_running_mode=in_memory): the pipeline carries only (list id, start, stop)
    slices and reads the list itself, by reference. beam.Create would encode, pickle and
    bz2-compress (level 9) the whole input into the pipeline graph and decode it again: ~26 s
    for 33,000 documents (50 MB), a cost no real source pays. The list stays registered for the
    life of the process; every element goes through one worker's fused stage as it would from
    a reader."""
    import apache_beam as beam

    _IN_MEMORY[id(items)] = items
    slices = [(id(items), start, min(start + chunk, len(items))) for start in range(0, len(items), chunk)]
    return pipeline | f"Slices{id(items)}" >> beam.Create(slices, reshuffle=False) | f"FromMemory{id(items)}" >> beam.FlatMap(_memory_slice)


def require_peers(modules: tuple[str, ...] = ("datatrove", "spacy")) -> None:
    """Stops a benchmark that imports peer tools into this venv with one line saying what to install."""
    import importlib.util
    import sys

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        sys.exit(f"error: this benchmark compares with {', '.join(missing)}, not installed here: pip install -e '.[bench]'")
