"""Atomic, deterministic file writes."""

import os

import pytest

from pipeline.io.write import stable_shard, write_atomically


def test_a_crash_mid_write_leaves_no_finished_looking_file(tmp_path):
    target = str(tmp_path / "part-00000-of-00001.parquet")

    def crash(sink):
        sink.write(b"half a file")
        raise RuntimeError("worker died")

    with pytest.raises(RuntimeError):
        write_atomically(target, crash)
    assert not os.path.exists(target)
    assert all(".tmp-" in name for name in os.listdir(tmp_path))


def test_a_retried_write_replaces_the_file(tmp_path):
    target = str(tmp_path / "sub" / "stats.json")
    write_atomically(target, lambda sink: sink.write(b"first"))
    write_atomically(target, lambda sink: sink.write(b"second"))
    assert open(target, "rb").read() == b"second" and os.listdir(tmp_path / "sub") == ["stats.json"]


def test_stable_shard_is_a_pure_function_of_key_and_count():
    assert [stable_shard(f"doc-{i}", 7) for i in range(5)] == [stable_shard(f"doc-{i}", 7) for i in range(5)]
    assert {stable_shard(f"doc-{i}", 7) for i in range(1000)} == set(range(7))
