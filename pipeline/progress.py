"""Lines that show a long stage is moving, printed by the worker doing it.

The runner prints a line per stage as it completes (pipeline/report/collect.py). On a large input
the first of those comes only after the whole first chain (reading to the quality gates): at
~2 MB/s per worker, 10 GB on 2 workers is 40 minutes of silence. So the work that grows with the
input (the chains of per-document stages, MinHash/SimHash sketching, paragraph hashing,
tokenization) counts what it has done, and each worker process prints, at most every PROGRESS_SECONDS, how far
it has come:

    ... worker 4242: extract.html.v1 to quality.code.v1: 1,204,311 documents (3.4G characters) done, 6.0 min so far

and a single long call (training the BPE tokenizer) says every PROGRESS_SECONDS that it is still
running. Work that finishes within PROGRESS_SECONDS prints nothing. The counts are this process's
since its first batch of that work in this run; on a cluster each worker writes its lines to its own log.
Nothing written by the run depends on them.
"""

import os
import threading
import time
import uuid
from contextlib import contextmanager

PROGRESS_SECONDS = 60.0
_lock = threading.Lock()  # bundles of one stage may run on several threads of a process
_meters: dict[tuple[str, str], list] = {}  # (run, label) -> [first batch, last line, documents, characters]


def short_count(n: float) -> str:
    """1234567 -> '1.2M'."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return f"{n:.0f}"


def run_token() -> str:
    """Set on a DoFn when the graph is built: one process may run several pipelines (tests, a
    notebook), and each run's counts start from zero."""
    return uuid.uuid4().hex


def _line(label: str, what: str, seconds: float) -> str:
    return f"  ... worker {os.getpid()}: {label}: {what}, {seconds / 60:.1f} min so far"


def advance(run: str, label: str, documents: int, characters: int) -> None:
    """Count a batch done under `label` in run `run`; print this process's running total if
    PROGRESS_SECONDS have passed since its last line (or since its first batch)."""
    now = time.monotonic()
    with _lock:
        meter = _meters.get((run, label))
        if meter is None:
            meter = _meters[run, label] = [now, now, 0, 0]
        meter[2] += documents
        meter[3] += characters
        if now - meter[1] < PROGRESS_SECONDS:
            return
        meter[1] = now
        line = _line(label, f"{meter[2]:,} documents ({short_count(meter[3])} characters) done", now - meter[0])
    print(line, flush=True)


@contextmanager
def still_running(label: str, what: str):
    """Around one long call: every PROGRESS_SECONDS until it returns, a line saying it is still `what`."""
    started = time.monotonic()
    done = threading.Event()

    def tick():
        while not done.wait(PROGRESS_SECONDS):
            print(_line(label, what, time.monotonic() - started), flush=True)

    ticker = threading.Thread(target=tick, name=f"progress {label}", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()
