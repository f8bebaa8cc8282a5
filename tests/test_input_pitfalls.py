"""What a new user's real inputs do end to end: ids that repeat across files, source labels from
paths, outputs with no rows. Each of these once lost or mislabelled data without a word."""

import gzip
import json
import os

import pyarrow.parquet as pq
import pytest

from pipeline import run
from pipeline.stages.dedup import EXACT_STAGE

SAMPLE = os.path.join(os.path.dirname(run.__file__), "sample", "data")


def _sample_texts(source: str, n: int) -> list[str]:
    with gzip.open(os.path.join(SAMPLE, f"{source}.jsonl.gz"), "rt", encoding="utf-8") as f:
        return [json.loads(line)["text"] for line, _ in zip(f, range(n))]


def _write_jsonl(path, records) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def _run(args, tmp_path, config: str | None = None) -> int:
    if config is not None:
        (tmp_path / "c.yaml").write_text(config)
        args = [*args, "--config", str(tmp_path / "c.yaml")]
    return run.main(["--runner=DirectRunner", *args])


def test_records_that_share_an_id_keep_their_own_documents(tmp_path, capsys):
    texts = _sample_texts("wiki", 200)
    a, b = texts[:100], texts[100:]
    _write_jsonl(tmp_path / "in" / "a.jsonl", [{"id": f"w{i}", "text": t, "source": "wiki"} for i, t in enumerate(a)])
    _write_jsonl(tmp_path / "in" / "b.jsonl", [{"id": f"w{i}", "text": t, "source": "wiki"} for i, t in enumerate(b)])
    _write_jsonl(tmp_path / "in" / "c.jsonl", [{"id": f"v{i}", "text": t, "source": "wiki"} for i, t in enumerate(a)])
    out = tmp_path / "out"
    config = "mixture: {shares: {wiki: 1.0}, max_epochs: 1.0}\n"
    assert _run(["--input", str(tmp_path / "in"), "--output", str(out)], tmp_path, config) == 0
    assert "repeated record ids: 100 ids held by 200 documents" in capsys.readouterr().out

    stats = json.loads((out / "stats.json").read_text())
    assert stats["facts"]["repeated_ids"] == {"ids": 100, "documents": 200}
    assert stats["rejections"][EXACT_STAGE] == {"exact_duplicate": 100}  # a's copies in c, nothing more
    kept = pq.read_table(out / "documents").to_pylist()
    kept_b = {r["text"] for r in kept if "@b.jsonl:" in r["id"]}
    assert kept_b == set(b)  # every unique text of b survives
    assert {r["text"] for r in kept} == set(a) | set(b)
    # ids are unique, the given id stays in record_id, and a repeated one says where it was read
    assert len({r["id"] for r in kept}) == len(kept)
    by_id = {r["id"]: r for r in kept}
    assert by_id["w5@b.jsonl:6"]["record_id"] == "w5" and by_id["w5@b.jsonl:6"]["text"] == b[5]
    assert all(r["record_id"] == r["id"] for r in kept if "@" not in r["id"])


def test_source_labels_come_from_the_full_path_whatever_the_other_inputs(tmp_path, capsys):
    books = tmp_path / "in" / "zst_nosrc" / "books"
    _write_jsonl(books / "part1.jsonl", [{"text": t} for t in _sample_texts("books", 5)])
    txt = tmp_path / "in" / "txt"
    txt.mkdir(parents=True)
    for i, t in enumerate(_sample_texts("curated", 4)):
        (txt / f"{i}.txt").write_text(t, encoding="utf-8")
    config = 'read:\n  source_by_path: {"*/books/*": books, "*/txt/*": curated, "*/nowhere/*": academic}\n'
    for inputs in ([books], [books, txt], [txt]):
        out = tmp_path / f"out{len(os.listdir(tmp_path))}"
        args = [a for folder in inputs for a in ("--input", f"{folder}/")]
        assert _run([*args, "--output", str(out)], tmp_path, config) == 0
        err = capsys.readouterr().err
        assert "warning: read.source_by_path: '*/nowhere/*' matches none of the" in err
        read = {s: v["read"] for s, v in json.loads((out / "stats.json").read_text())["sources"].items()}
        assert read == {**({"books": 5} if books in inputs else {}), **({"curated": 4} if txt in inputs else {})}


def test_outputs_without_rows_are_empty_tables_not_missing_files(tmp_path):
    _write_jsonl(tmp_path / "in" / "a.jsonl", [{"text": "too short"}, {"text": "also far too short"}])
    out = tmp_path / "out"
    assert _run(["--input", str(tmp_path / "in"), "--output", str(out)], tmp_path) == 0
    for folder in ("documents", "dead_letters"):
        files = os.listdir(out / folder)
        assert files == ["part-00000-of-00001.parquet"], folder
        assert pq.read_table(out / folder).num_rows == 0
    assert pq.read_table(out / "documents").schema.names[0] == "id"
    stats = json.loads((out / "stats.json").read_text())
    assert stats["accounting"]["holds"] and stats["accounting"]["rejected"] == 2


@pytest.mark.parametrize("line, detail", [(b'{"text": "unterminated\n', "Unterminated string starting at: column 10")])
def test_dead_letter_details_read_as_sentences(tmp_path, line, detail):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_bytes(line)
    out = tmp_path / "out"
    assert _run(["--input", str(tmp_path / "in"), "--output", str(out)], tmp_path) == 0
    assert pq.read_table(out / "dead_letters").column("detail").to_pylist() == [detail]
