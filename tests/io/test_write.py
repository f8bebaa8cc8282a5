"""Atomic, deterministic file writes."""

import io
import os
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.io.write import _PARQUET_OPTIONS, _ROW_GROUP, arrow_stream, read_streams, sorted_order, stable_shard, write_atomically, write_in_order
from schemas import DOCUMENT_SCHEMA
from tests.local_beam import local_pipeline


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


_SMALL = pa.schema([pa.field("id", pa.string(), nullable=False), pa.field("text", pa.string())])


def _write_through_beam(out, collections: list[list[dict]], shard_bytes: int, flatten: bool) -> dict[str, bytes]:
    """WriteParquetShards over several collections (each converted where it is), or over their
    flatten; -> {relative path: file bytes}."""
    import apache_beam as beam

    from pipeline.io.write import WriteParquetShards

    write = WriteParquetShards(
        str(out), lambda e: e["folder"], "id", lambda e: {"id": e["id"], "text": e["text"]}, lambda e: 10 + len(e["text"]), _SMALL, shard_bytes
    )
    with local_pipeline() as p:
        parts = tuple(p | f"Create{i}" >> beam.Create(rows, reshuffle=False) for i, rows in enumerate(collections))
        _ = (parts | beam.Flatten() if flatten else parts) | write
    return {str(path.relative_to(out)): path.read_bytes() for path in sorted(out.rglob("*.parquet"))}


def test_several_collections_are_written_as_their_union_would_be_with_rows_in_their_key_files(tmp_path):
    rng = random.Random(3)
    rows = [{"folder": f"f{i % 2}", "id": f"r{rng.randrange(10**5)}", "text": "x" * rng.randint(0, 200)} for i in range(600)]
    collections = [rows[:250], rows[250:251], rows[251:]]
    shard_bytes = 8 * 1024  # several files per folder
    split = _write_through_beam(tmp_path / "split", collections, shard_bytes, flatten=False)
    assert split == _write_through_beam(tmp_path / "flat", collections, shard_bytes, flatten=True)
    for folder in ("f0", "f1"):
        mine = [r for r in rows if r["folder"] == folder]
        n = -(-sum(10 + len(r["text"]) for r in mine) // shard_bytes)
        assert n > 2
        for k in range(n):
            want = sorted(
                ({"id": r["id"], "text": r["text"]} for r in mine if stable_shard(r["id"], n) == k), key=lambda r: (r["id"], repr(sorted(r.items())))
            )
            sink = io.BytesIO()
            pq.write_table(pa.Table.from_pylist(want, schema=_SMALL), sink, row_group_size=_ROW_GROUP, **_PARQUET_OPTIONS)
            assert split[f"{folder}/part-{k:05d}-of-{n:05d}.parquet"] == sink.getvalue()
