"""The README's real-run command and its my.yaml, run exactly as written, on every input format
the README lists: source labels as the README says, every output it lists present, accounting
holding."""

import gzip
import json
import os
import shlex
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from tests.test_project import ROOT, _block


def _texts(source: str, n: int) -> list[str]:
    with gzip.open(os.path.join(ROOT, "pipeline", "sample", "data", f"{source}.jsonl.gz"), "rt", encoding="utf-8") as f:
        return [json.loads(line)["text"] for line, _ in zip(f, range(n))]


def _jsonl(texts) -> bytes:
    return "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts).encode()


def _lay_out_inputs(root) -> dict[str, int]:
    """data/crawl/*.jsonl.zst (no source field: web by default) and data/books/ in every other
    format the README lists. Returns the documents expected per source label."""
    web, books = _texts("web", 300), _texts("books", 12)
    crawl = root / "data" / "crawl"
    crawl.mkdir(parents=True)
    for i in range(2):
        (crawl / f"part-{i}.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(_jsonl(web[i::2])))
    shelf = root / "data" / "books" / "shelf"  # a folder input takes the files below it too
    shelf.mkdir(parents=True)
    (shelf.parent / "a.jsonl").write_bytes(_jsonl(books[0:2]))
    (shelf.parent / "b.json.gz").write_bytes(gzip.compress(_jsonl(books[2:4]), mtime=0))
    (shelf.parent / "c.ndjson").write_bytes(_jsonl(books[4:6]))
    pq.write_table(pa.table({"text": books[6:9]}), shelf / "d.parquet")
    for i, text in enumerate(books[9:12]):
        (shelf / f"e{i}.txt").write_text(text, encoding="utf-8")
    return {"web": len(web), "books": len(books)}


def test_the_readme_real_run_works_as_written(tmp_path):
    expected = _lay_out_inputs(tmp_path)
    (tmp_path / "my.yaml").write_text(_block("real-run-config") + "\n")
    argv = shlex.split(_block("real-run-command").replace("\\\n", " "))
    assert argv[:3] == ["python", "-m", "pipeline.run"]
    env = {**os.environ, "PYTHONPATH": ROOT}
    done = subprocess.run([sys.executable, *argv[1:]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "read.source_by_path" not in done.stderr  # the README's rule matches the files it is meant for

    out = tmp_path / "runs" / "2026-11-crawl"
    stats = json.loads((out / "stats.json").read_text())
    assert {s: v["read"] for s, v in stats["sources"].items()} == expected
    assert stats["accounting"]["holds"] and stats["accounting"]["dead_letters"] == 0
    for listed in ("documents", "dead_letters", "rejections", "tokens/manifest.json", "tokens/tokenizer.json", "report.html"):
        assert (out / listed).exists(), listed
    assert pq.read_table(out / "dead_letters").num_rows == 0
    assert pq.read_table(out / "documents").num_rows == stats["accounting"]["kept"]
    assert any(name.startswith("shard-") for name in os.listdir(out / "tokens"))
