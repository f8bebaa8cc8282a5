"""Atomic, deterministic file writes."""

import io
import os
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.io.write import _PARQUET_OPTIONS, _ROW_GROUP, PackedRows, ordered_rows, stable_shard, write_atomically, write_row_groups
from schemas import DOCUMENT_SCHEMA


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


def test_packed_rows_keep_their_order_rule():
    keyed = [(f"id{i % 7}", {"id": f"id{i % 7}", "text": f"text {i}", "n": i}) for i in range(40)]
    packed = [(key, PackedRows.pack(row)) for key, row in reversed(keyed)]
    assert [PackedRows.unpack(p) for p in ordered_rows(packed, PackedRows.unpack)] == _reference_order(keyed)


@pytest.mark.parametrize("n", [0, 1, _ROW_GROUP, _ROW_GROUP + 1, 2 * _ROW_GROUP + 7])
def test_writing_a_row_group_at_a_time_gives_the_bytes_of_one_table(n):
    rng = random.Random(n)
    rows = [
        {
            "id": f"d{i}",
            "text": "".join(rng.choice("ab cdé\n") for _ in range(rng.randint(0, 300))),
            "source": rng.choice(["web", "wiki"]),
            "url": None if i % 3 else f"https://example.org/{i}",
            "lang": "en",
            "lang_score": rng.random(),
            "scores": [("quality.c4.v1:lines", rng.random())] if i % 2 else [],
            "metadata": [("title", "t")],
            "record_id": None,
        }
        for i in range(n)
    ]
    whole, by_group = io.BytesIO(), io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=DOCUMENT_SCHEMA), whole, row_group_size=_ROW_GROUP, **_PARQUET_OPTIONS)
    write_row_groups(by_group, [PackedRows.pack(row) for row in rows], DOCUMENT_SCHEMA)
    assert by_group.getvalue() == whole.getvalue()
    assert pq.read_table(io.BytesIO(by_group.getvalue())).num_rows == n
