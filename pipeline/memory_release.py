"""Gives memory back after every Beam bundle: a worker's finished output buffers, and the free
pages glibc keeps.

Why, measured on the 100 MB benchmark corpus with 2 workers (RSS of each process sampled every
0.5 s during `python -m pipeline.run`; the same bytes out every time):

- Each output of a fused stage writes its encoded elements into a growing buffer that is sent
  when it passes 10 MB or when the bundle ends. Beam caches the bundle's processor for reuse and
  the processor keeps its last, closed stream, so every stage a worker has run held a buffer the
  size of its output, up to 16 MB: memray found 276 MB of them live in one worker at the end of a
  32 MB run, growing with the input. `_drop_output_stream` lets go of the stream once `finish`
  has closed it (its bytes sent); the next bundle gets a new one, as it always did.
- glibc's malloc keeps what is freed, so each process stays at its own highest point, reached
  at different times (the runner while it groups a shuffle, one worker while it trains the BPE
  tokenizer, the other while it writes), and the tree's peak was the sum of those highs.
  `malloc_trim(0)` after each bundle returns the free pages of every arena.

Peak RSS of the tree: 4,648 MiB before; 3,470 MiB with the trim; 2,755 MiB with both (and the
near-dedup change between them), in the same time within this machine's spread. Lowering
M_TRIM_THRESHOLD or M_MMAP_THRESHOLD instead gave back about as much as the trim but cost 5% to
15% more time, because every large free and allocation then went to the kernel. Nothing here
changes what a run computes. Where the C library is not glibc (macOS, musl) there is no
malloc_trim, and only the buffers are dropped.
"""

import ctypes
import ctypes.util
import functools
import os
import threading

_installed: set[str] = set()
_lock = threading.Lock()


@functools.cache
def _libc():
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


@functools.cache
def _malloc_trim():
    try:
        trim = _libc().malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Returns the heap's free pages to the OS; False where the C library cannot."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


def _wrap(cls, name: str, key: str, then) -> None:
    """Wraps cls.name so that every call ends with then(instance); once per process."""
    with _lock:
        if key in _installed:
            return
        _installed.add(key)
        run = getattr(cls, name, None)
        if run is None:  # a Beam release without this method: the memory is simply not freed
            return

        @functools.wraps(run)
        def run_then(self, *args, **kwargs):
            try:
                return run(self, *args, **kwargs)
            finally:
                then(self)

        setattr(cls, name, run_then)


def _release(_) -> None:
    release_free_memory()


def _drop_output_stream(operation) -> None:
    # The stream was closed and its bytes sent; the next bundle sets a new one.
    operation.output_stream = None


def arrow_on_the_system_allocator() -> None:
    """Arrow's buffers (the writers' and readers' tables, IPC batches, Parquet pages) come from
    the C library's malloc, whose free pages the trim after each bundle returns. pyarrow's wheels
    default to mimalloc, which keeps pages Arrow has freed. With every stage converting its
    rejections to Arrow (pipeline.io.write), the 100 MB default run's peak tree RSS was 2,559 /
    2,559 MiB with the system allocator against 2,692 / 2,689 MiB with mimalloc (same code
    otherwise, alternating runs), in the same time. Buffers already allocated keep their pool."""
    import pyarrow as pa

    if pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())


_M_ARENA_MAX = -8  # glibc's mallopt() parameter number
RUNNER_ARENAS = 2  # the runner mostly moves bytes between gRPC threads
WORKER_ARENAS = 4  # the workers compute, with the libraries' own threads


def cap_malloc_arenas() -> None:
    """glibc gives a thread that finds the heap busy an arena of its own, up to 8 per core, and
    each keeps its own free pages and fragments: the runner's and workers' gRPC threads had
    made one process's heap many. Capped here: in this process by mallopt, and in the worker
    processes the DirectRunner starts afterwards by MALLOC_ARENA_MAX, which glibc reads when a
    process starts. A MALLOC_ARENA_MAX already set is left as the user set it.

    100 MB default run, 2 workers, per-process RSS traces: peak tree 2,637 / 2,751 MiB uncapped,
    2,264 / 2,329 MiB with 2 arenas in the runner and 4 in each worker (70.5 / 72.5 s against
    71.0 / 70.5 s), 2,183 / 2,173 MiB with 2 everywhere but 74.1 / 75.7 s (the workers' threads
    then wait on each other), 2,457 MiB with 4 everywhere. Same bytes out."""
    if "MALLOC_ARENA_MAX" in os.environ or _malloc_trim() is None:
        return
    os.environ["MALLOC_ARENA_MAX"] = str(WORKER_ARENAS)
    mallopt = _libc().mallopt  # present wherever malloc_trim is (glibc)
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    mallopt(_M_ARENA_MAX, RUNNER_ARENAS)


def release_after_runner_bundles() -> None:
    """In the process that runs the pipeline: after each bundle the portable runner
    (the DirectRunner's FnApiRunner) hands to a worker and collects."""
    from apache_beam.runners.portability.fn_api_runner import fn_runner

    if _malloc_trim() is not None:
        arrow_on_the_system_allocator()
        _wrap(fn_runner.FnApiRunner, "_execute_bundle", "runner", _release)


def release_after_worker_bundles() -> None:
    """In an SDK worker: drops each bundle's output buffers when the bundle ends, and releases
    free memory after each bundle. Called from the setup of the DoFns every graph runs (the
    reader and the chain), so it reaches the workers of any runner; idempotent."""
    from apache_beam.runners.worker import bundle_processor, sdk_worker

    _wrap(bundle_processor.DataOutputOperation, "finish", "output-streams", _drop_output_stream)
    if _malloc_trim() is not None:
        arrow_on_the_system_allocator()
        _wrap(sdk_worker.SdkWorker, "process_bundle", "worker", _release)
