"""Atomic, deterministic file writes."""

import os
import random

import pytest

from pipeline.io.write import ordered_rows, stable_shard, write_atomically


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


def _reference_order(keyed_rows):
    """The rule, written plainly: by key, then by the rendered row."""
    return [row for _, _, row in sorted(((k, repr(sorted(r.items())), r) for k, r in keyed_rows), key=lambda t: t[:2])]


def test_rows_come_by_key_and_tied_keys_by_content_whatever_the_arrival_order():
    keyed = [(f"id{i % 7}", {"id": f"id{i % 7}", "text": f"text {i}", "n": i}) for i in range(40)]
    keyed += [("id3", {"id": "id3", "text": "same", "n": -1})] * 2  # a row written twice
    expected = _reference_order(keyed)
    assert [r["id"] for r in expected] == sorted(r["id"] for r in expected)
    rng = random.Random(0)
    for _ in range(5):
        shuffled = keyed[:]
        rng.shuffle(shuffled)
        assert ordered_rows(shuffled) == expected
