"""Freed heap memory goes back to the OS after each bundle, in the runner and in the workers, and
a worker lets go of a finished bundle's output buffers."""

import json

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability.fn_api_runner import fn_runner
from apache_beam.runners.worker import bundle_processor, sdk_worker

from pipeline import memory_release
from pipeline.config import ReadConfig
from pipeline.io.read import ReadDocuments
from tests.local_beam import local_pipeline

glibc = pytest.mark.skipif(memory_release._malloc_trim() is None, reason="no malloc_trim in this C library")


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


@glibc
def test_free_pages_held_by_malloc_go_back_to_the_os():
    # 64 KiB blocks come from the heap (below glibc's mmap threshold); keeping every 16th one
    # pins the heap's top, so free() alone gives nothing back.
    blocks = [bytearray(64 * 1024) for _ in range(4096)]  # 256 MiB, every page touched
    kept = blocks[::16]
    del blocks
    held = _rss_mib()
    assert memory_release.release_free_memory()
    assert held - _rss_mib() > 150, "malloc_trim returned less than 150 of the ~240 MiB freed"
    assert len(kept) == 256


def test_a_wrapped_method_releases_after_each_call_and_is_wrapped_once(monkeypatch):
    released = []
    monkeypatch.setattr(memory_release, "release_free_memory", lambda: released.append(1))
    monkeypatch.setattr(memory_release, "_installed", set())

    class Work:
        def run(self, x):
            if x < 0:
                raise ValueError(x)
            return x * 2

    memory_release._wrap(Work, "run", "test-work", memory_release._release)
    memory_release._wrap(Work, "run", "test-work", memory_release._release)  # a second setup on the same worker
    assert Work().run(3) == 6 and released == [1]
    with pytest.raises(ValueError):
        Work().run(-1)
    assert released == [1, 1], "a failed call releases too, and only once"
    memory_release._wrap(Work, "renamed_in_a_later_beam", "test-missing", memory_release._release)  # no error
    assert not hasattr(Work, "renamed_in_a_later_beam")


def test_a_finished_output_operation_lets_go_of_its_stream(monkeypatch):
    monkeypatch.setattr(memory_release, "_installed", set())
    closed = []

    class Stream:
        def close(self):
            closed.append(self)

    class Output:  # the shape of Beam's DataOutputOperation: set a stream, finish closes it
        def set_output_stream(self, stream):
            self.output_stream = stream

        def finish(self):
            self.output_stream.close()

    memory_release._wrap(Output, "finish", "test-output", memory_release._drop_output_stream)
    op, stream = Output(), Stream()
    op.set_output_stream(stream)
    op.finish()
    assert closed == [stream], "the stream is closed (its bytes sent) before it is dropped"
    assert op.output_stream is None


@glibc
def test_a_run_installs_the_release_in_its_runner_and_its_workers(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps({"id": str(i), "text": f"document {i}"}) + "\n" for i in range(3)))
    memory_release.release_after_runner_bundles()
    options = PipelineOptions(["--direct_num_workers=1", "--direct_running_mode=in_memory"])
    with local_pipeline(options) as p:
        read = p | ReadDocuments([str(path)], ReadConfig())
        _ = read["documents"] | beam.combiners.Count.Globally()
    assert hasattr(fn_runner.FnApiRunner._execute_bundle, "__wrapped__")
    assert hasattr(sdk_worker.SdkWorker.process_bundle, "__wrapped__")
    assert hasattr(bundle_processor.DataOutputOperation.finish, "__wrapped__")


def test_arrow_buffers_freed_in_a_bundle_go_back_with_the_trim():
    """In a fresh process (the pool is per process): Arrow work on the pool the workers use, then
    the trim, leaves far less behind than pyarrow's default pool keeps."""
    code = """
import ctypes, gc, sys
import pyarrow as pa
from pipeline import memory_release
if sys.argv[1] == "ours":
    memory_release.arrow_on_the_system_allocator()
def rss(): return int(open('/proc/self/statm').read().split()[1]) * 4096 / 2**20
texts = [("word %d " % i) * 200 for i in range(8000)]
def work(rounds):
    for k in range(rounds):
        table = pa.table({"text": texts})
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as w:
            w.write_table(table)
        del table, sink, w
        gc.collect()
    memory_release.release_free_memory()
work(1)  # Arrow's own one-time set-up
before = rss()
work(6)
print(pa.default_memory_pool().backend_name, rss() - before)
"""
    import subprocess
    import sys

    def left(which: str) -> tuple[str, float]:
        out = subprocess.run([sys.executable, "-c", code, which], capture_output=True, text=True, check=True).stdout.split()
        return out[0], float(out[1])

    backend, ours = left("ours")
    assert backend == "system"
    default_backend, default = left("default")
    if default_backend == "system":
        pytest.skip("pyarrow's default pool is already the system allocator here")
    assert ours < default / 2, (ours, default)


_ARENAS = """
import ctypes, ctypes.util, os, sys, tempfile, threading
from pipeline import memory_release
if sys.argv[1] == "cap":
    memory_release.cap_malloc_arenas()
def churn():
    for _ in range(2000):
        blocks = [bytearray(4096) for _ in range(50)]
        del blocks
threads = [threading.Thread(target=churn) for _ in range(16)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.fopen.restype = ctypes.c_void_p
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
fd, path = tempfile.mkstemp(); os.close(fd)
f = libc.fopen(path.encode(), b"w"); libc.malloc_info(0, f); libc.fclose(f)
heaps = open(path).read().count("<heap nr=")
os.remove(path)
print(heaps, os.environ.get("MALLOC_ARENA_MAX"))
"""


def _arenas(which: str, env: dict) -> tuple[int, str]:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _ARENAS, which], capture_output=True, text=True, check=True, env=env).stdout.split()
    return int(out[0]), out[1]


def test_the_runner_caps_its_malloc_arenas_and_passes_the_workers_theirs():
    import os

    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    heaps, passed = _arenas("cap", env)
    assert heaps <= memory_release.RUNNER_ARENAS and passed == str(memory_release.WORKER_ARENAS)
    uncapped, _ = _arenas("none", env)
    if uncapped <= memory_release.RUNNER_ARENAS:
        pytest.skip("threads made no extra arenas here")
    assert _arenas("cap", {**env, "MALLOC_ARENA_MAX": "7"})[1] == "7"  # a user's setting stays
