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
_meters: dict[str, list] = {}  # Meter.run -> [first batch, last line, documents, characters]


def short_count(n: float) -> str:
    """1234567 -> '1.2M'."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return f"{n:.0f}"


def _line(label: str, what: str, seconds: float) -> str:
    return f"  ... worker {os.getpid()}: {label}: {what}, {seconds / 60:.1f} min so far"


class Meter:
    """One stage's counts, made when the graph is built and held by its DoFn. Its copies in a
    worker (Beam unpickles a DoFn per bundle processor) share this process's total through the
    module's table, keyed by a token of this meter: one process may run several pipelines
    (tests, a notebook), and each run counts from zero."""

    def __init__(self, label: str):
        self.label = label
        self.run = uuid.uuid4().hex

    def advance(self, docs) -> None:
        """Count a batch of documents (anything with .text) as done; print this process's running
        total if PROGRESS_SECONDS have passed since its last line (or since its first batch)."""
        characters = sum(len(d.text) for d in docs)
        now = time.monotonic()
        with _lock:
            meter = _meters.get(self.run)
            if meter is None:
                meter = _meters[self.run] = [now, now, 0, 0]
            meter[2] += len(docs)
            meter[3] += characters
            if now - meter[1] < PROGRESS_SECONDS:
                return
            meter[1] = now
            line = _line(self.label, f"{meter[2]:,} documents ({short_count(meter[3])} characters) done", now - meter[0])
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
