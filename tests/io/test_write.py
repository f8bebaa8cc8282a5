"""Atomic, deterministic file writes."""

import io
import os
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.io.write import _PARQUET_OPTIONS, _ROW_GROUP, arrow_stream, read_streams, sorted_order, stable_shard, write_atomically, write_in_order
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


def _in_sorted_order(keyed_rows):
    rows = [row for _, row in keyed_rows]
    table = pa.Table.from_pylist(rows)
    return [rows[i] for i in sorted_order(table["id"], lambda i: table.slice(i, 1).to_pylist()[0])]


def test_rows_come_by_key_and_tied_keys_by_content_whatever_the_arrival_order():
    keyed = [(f"id{i % 7}", {"id": f"id{i % 7}", "text": f"text {i}", "n": i}) for i in range(40)]
    keyed += [("id3", {"id": "id3", "text": "same", "n": -1})] * 2  # a row written twice
    keyed += [(k, {"id": k, "text": "", "n": 0}) for k in ("é", "e", "z", "\U0001f600", "ﬀ", "")]  # byte order = code point order
    expected = _reference_order(keyed)
    assert [r["id"] for r in expected] == sorted(r["id"] for r in expected)
    rng = random.Random(0)
    for _ in range(5):
        shuffled = keyed[:]
        rng.shuffle(shuffled)
        assert _in_sorted_order(shuffled) == expected


def _documents(n: int, rng: random.Random) -> list[dict]:
    return [
        {
            "id": f"d{rng.randrange(10**6)}",
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


@pytest.mark.parametrize("n", [0, 1, _ROW_GROUP, _ROW_GROUP + 1, 2 * _ROW_GROUP + 7])
def test_batches_in_any_split_give_the_bytes_of_the_sorted_rows_written_whole(n):
    rng = random.Random(n)
    rows = _documents(n, rng)
    expected = io.BytesIO()
    pq.write_table(
        pa.Table.from_pylist(_reference_order([(r["id"], r) for r in rows]), schema=DOCUMENT_SCHEMA),
        expected,
        row_group_size=_ROW_GROUP,
        **_PARQUET_OPTIONS,
    )
    for _ in range(2):  # two arrival orders, cut into batches at random
        rng.shuffle(rows)
        cuts = sorted(rng.sample(range(1, n), min(3, n - 1))) if n > 1 else []
        parts = [arrow_stream(rows[a:b], DOCUMENT_SCHEMA) for a, b in zip([0, *cuts], [*cuts, n]) if b > a]
        table = read_streams(parts, DOCUMENT_SCHEMA)
        written = io.BytesIO()
        write_in_order(written, table, sorted_order(table["id"], lambda i: table.slice(i, 1).to_pylist()[0]))
        assert written.getvalue() == expected.getvalue()
