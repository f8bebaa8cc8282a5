"""Large inputs read in parts give exactly the records of reading them whole: same ids, same
locations, same dead letters."""

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.config import ReadConfig
from pipeline.io.parse import InputFile, read_file
from pipeline.io.split import plan_parts


def _read(path, parts, cfg):
    out = []
    for part in parts:
        with open(path, "rb") as raw:
            out += list(read_file(raw, part, cfg))
    return out


def _messy_jsonl(n: int) -> bytes:
    lines = []
    for i in range(n):
        if i % 17 == 3:
            lines.append(b'{"text": "unterminated')  # a dead letter, located by its line
        elif i % 23 == 5:
            lines.append(b"")  # blank lines hold no record but count as lines
        elif i % 31 == 7:
            lines.append(json.dumps({"text": "long " * 600}).encode())  # longer than a part
        else:
            record = {"text": f"record {i} " + "word " * (i % 40)}
            if i % 2:
                record["id"] = f"given-{i}"
            lines.append(json.dumps(record).encode())
    return b"\n".join(lines)  # no newline at the very end


@pytest.mark.parametrize("split_bytes", [1024, 1500, 4096])
def test_jsonl_parts_read_like_the_whole_file(tmp_path, split_bytes):
    path = tmp_path / "big.jsonl"
    path.write_bytes(_messy_jsonl(400))
    cfg = ReadConfig(split_bytes=split_bytes)
    parts = plan_parts(str(path), path.stat().st_size, "big.jsonl", cfg)
    assert len(parts) > 5
    assert parts[0].start == 0 and parts[-1].end == path.stat().st_size
    assert all(a.end == b.start for a, b in zip(parts, parts[1:]))  # contiguous, nothing read twice
    whole = _read(path, [InputFile(path=str(path), rel_path="big.jsonl")], cfg)
    assert _read(path, parts, cfg) == whole
    assert any(type(r).__name__ == "DeadLetter" for r in whole)


def test_parquet_parts_are_runs_of_row_groups(tmp_path):
    path = tmp_path / "big.parquet"
    texts = [f"document {i} " + "text " * (i % 50) if i % 13 else None for i in range(3000)]
    pq.write_table(pa.table({"text": texts}), path, row_group_size=100)
    cfg = ReadConfig(split_bytes=4096)
    parts = plan_parts(str(path), path.stat().st_size, "big.parquet", cfg)
    assert len(parts) > 3 and parts[0].start == 0 and parts[-1].end == 30
    whole = _read(path, [InputFile(path=str(path), rel_path="big.parquet")], cfg)
    assert _read(path, parts, cfg) == whole
    assert len(whole) == 3000


def test_small_compressed_and_unreadable_files_are_one_part(tmp_path):
    cfg = ReadConfig(split_bytes=1024)
    gz = tmp_path / "a.jsonl.gz"
    gz.write_bytes(b"x" * 5000)
    assert plan_parts(str(gz), 5000, "a.jsonl.gz", cfg) == [InputFile(path=str(gz), rel_path="a.jsonl.gz")]
    small = tmp_path / "s.jsonl"
    small.write_bytes(b'{"text": "a"}\n')
    assert len(plan_parts(str(small), 14, "s.jsonl", cfg)) == 1
    broken = tmp_path / "b.parquet"
    broken.write_bytes(b"not parquet" * 200)
    assert plan_parts(str(broken), 2200, "b.parquet", cfg) == [InputFile(path=str(broken), rel_path="b.parquet")]
    assert plan_parts(str(tmp_path / "gone.jsonl"), 5000, "gone.jsonl", cfg) == [InputFile(path=str(tmp_path / "gone.jsonl"), rel_path="gone.jsonl")]


def test_bytes_reader_seek(tmp_path):
    # read_file reads a part through seek: an in-memory stream behaves like a file
    data = b'{"text": "a"}\n{"text": "b"}\n'
    part = InputFile(path="x.jsonl", rel_path="x.jsonl", start=14, end=len(data), before=1)
    (doc,) = list(read_file(io.BytesIO(data), part, ReadConfig()))
    assert doc.text == "b" and doc.metadata["location"] == "x.jsonl:2"
