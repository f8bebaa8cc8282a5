"""unit_hashes under threads: its power tables grow lazily at module level, and Beam runs bundles
on threads. Every thread must get the hashes a lone caller gets, whatever sizes race."""

import importlib.util
import sys
import threading

import numpy as np
import pytest

from pipeline.text.dedup import minhash

THREADS = 8
ROUNDS = 30


def _words(n_bytes: int, salt: int) -> list[str]:
    """Words totalling about n_bytes of UTF-8, different per salt."""
    words, size, i = [], 0, 0
    while size < n_bytes:
        word = f"w{salt}x{i}é"
        words.append(word)
        size += len(word.encode()) + 1
        i += 1
    return words


def _fresh_copy():
    """A private copy of the module, as on a new worker (sys.modules keeps the shared one)."""
    spec = importlib.util.spec_from_file_location("minhash_fresh_copy", minhash.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fast_switching():
    """Threads switch every microsecond, so a torn update of the tables is hit within a few rounds."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def test_unit_hashes_agree_across_racing_threads(fast_switching):
    inputs = [_words(2_000 * (t + 1) ** 2, t) for t in range(THREADS)]  # growing sizes, one per thread
    expected = [minhash.unit_hashes(words) for words in inputs]
    failures: list[str] = []
    for _ in range(ROUNDS):
        module = _fresh_copy()  # minimal tables: every thread must grow them
        barrier = threading.Barrier(THREADS)

        def run(t: int) -> None:
            barrier.wait()  # all threads start together
            try:
                got = module.unit_hashes(inputs[t])
            except Exception as e:  # noqa: BLE001 - the race shows up as IndexError on old code
                failures.append(f"thread {t}: {type(e).__name__}: {e}")
                return
            if not np.array_equal(got, expected[t]):
                failures.append(f"thread {t}: wrong hashes")

        threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not failures, failures[:5]
