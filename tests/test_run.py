"""The CLI end to end on the DirectRunner: malformed input, determinism, bad options."""

import gzip
import json

import pyarrow.parquet as pq
import pytest

from pipeline import run
from tests.tree import tree_digest

GOOD = [
    {"text": "The committee published its annual report on the state of public libraries in the region.", "source": "web"},
    {"text": "Le comité a publié son rapport annuel sur l'état des bibliothèques publiques de la région.", "source": "wiki"},
    {"text": "Der Ausschuss hat seinen Jahresbericht über den Zustand der öffentlichen Bibliotheken veröffentlicht.", "source": "books"},
    {"text": "Kamati imechapisha ripoti yake ya mwaka kuhusu hali ya maktaba za umma katika mkoa huo.", "source": "web"},
]


def _jsonl(records) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


@pytest.fixture
def messy_dir(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "good.jsonl").write_bytes(_jsonl(GOOD))
    (d / "bad.jsonl").write_bytes(
        _jsonl(GOOD[:1])
        + b'{"text": "unterminated\n'  # invalid JSON
        + b'{"text": null}\n'
        + b'{"text": "caf\xe9 \x00\xff binary"}\n'  # not UTF-8
        + _jsonl(GOOD[1:2])
    )
    many = [{**r, "text": f"{r['text']} Edition {i}."} for i in range(60) for r in GOOD]
    whole = gzip.compress(_jsonl(many), mtime=0)
    (d / "cut.jsonl.gz").write_bytes(whole[: len(whole) // 2])  # a truncated gzip member
    return d


def _run(args) -> int:
    return run.main(["--runner=DirectRunner", *args])


def test_malformed_input_becomes_dead_letters_and_accounting_holds(messy_dir, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(["--input", f"{messy_dir}/*.jsonl*", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "(holds)" in printed and "accounting: read" in printed

    dead = pq.read_table(out / "dead_letters").to_pylist()
    assert sorted((d["location"], d["reason"]) for d in dead) == sorted(
        [
            ("bad.jsonl:2", "invalid_json"),
            ("bad.jsonl:3", "null_text"),
            ("bad.jsonl:4", "undecodable_bytes"),
            (next(d["location"] for d in dead if d["reason"] == "truncated_stream"), "truncated_stream"),
        ]
    )
    assert next(d for d in dead if d["reason"] == "undecodable_bytes")["raw_excerpt"].startswith('{"text": "caf\\xe9')

    stats = json.loads((out / "stats.json").read_text())
    acc = stats["accounting"]
    cut_docs = stats["sources"]  # per-source read counts include the good part of the cut file
    assert acc["holds"] and acc["dead_letters"] == 4
    assert acc["records_read"] == acc["kept"] + acc["rejected"] + acc["dead_letters"]
    # Every record before the cut is read: the file holds whole lines up to the truncation.
    truncated_line = int(next(d for d in dead if d["reason"] == "truncated_stream")["location"].rsplit(":", 1)[1])
    assert acc["documents_read"] == len(GOOD) + 2 + (truncated_line - 1)
    assert sum(v["read"] for v in cut_docs.values()) == acc["documents_read"]
    kept = pq.read_table(out / "documents")
    assert kept.num_rows == acc["kept"]
    rejected = pq.read_table(out / "rejections")
    assert rejected.num_rows == acc["rejected"]
    by_reason = {}
    for stage, reason in zip(rejected.column("stage").to_pylist(), rejected.column("reason").to_pylist()):
        by_reason[(stage, reason)] = by_reason.get((stage, reason), 0) + 1
    assert by_reason == {(s, r): n for s, rs in stats["rejections"].items() for r, n in rs.items()}
    assert by_reason[("language.filter.v1", "language_not_kept")] == stats["rejections"]["language.filter.v1"]["language_not_kept"] > 0
    assert not [p for p in tree_digest(out) if ".tmp-" in p]


def test_reruns_and_worker_counts_give_identical_bytes(messy_dir, tmp_path, capfd):
    cfg = tmp_path / "small_files.yaml"
    # Several files per folder, to check the split too; near-dup removal would leave one file of
    # the fixture's 60 editions (tests/stages/test_dedup_stage.py covers its determinism).
    cfg.write_text(
        "output:\n  shard_bytes: 4096\n  tokens_per_shard: 1024\ndedup:\n  methods: [exact]\n"
        "tokenizer:\n  vocab_size: 400\n"  # trained in the run: its bytes must not depend on the workers either
    )
    digests = []
    runs = [["--direct_num_workers=1"], ["--direct_num_workers=1"], ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]]
    for i, workers in enumerate(runs):
        out = tmp_path / f"out{i}"
        assert _run(["--input", str(messy_dir), "--output", str(out), "--config", str(cfg), *workers]) == 0
        digest = tree_digest(out)
        assert len([k for k in digest if k.startswith("documents/")]) > 2 and any(k.startswith("rejections/") for k in digest)
        assert len([k for k in digest if k.startswith("tokens/shard-")]) >= 2 and "tokens/manifest.json" in digest
        digests.append(digest)
    assert digests[0] == digests[1] == digests[2]
    # The worker processes logged to the same stderr: warnings only, not their every start, batch
    # size and stop, nor each warning twice (once more relayed by the runner as "Worker: ...").
    err = capfd.readouterr().err
    assert "BatchElements statistics" not in err and "Python sdk harness" not in err and "Worker: " not in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--runer=DirectRunner"], "error: unknown option --runer=DirectRunner"),
        (["--input", "/nonexistent/*.jsonl"], "error: --input /nonexistent/*.jsonl: matches no file"),
    ],
)
def test_bad_options_stop_before_any_work_with_one_line(args, message, capsys):
    assert run.main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(message)


def test_bad_config_names_the_key(tmp_path, capsys, messy_dir):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("language:\n  threshold: 1.5\n")
    assert _run(["--input", str(messy_dir), "--config", str(cfg), "--output", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: language.threshold: must be in [0, 1], got 1.5"]
    assert not (tmp_path / "o").exists()


def test_existing_output_is_refused_unless_overwrite(messy_dir, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(["--input", str(messy_dir), "--output", str(out)]) == 0
    capsys.readouterr()
    assert _run(["--input", str(messy_dir), "--output", str(out)]) == 2
    assert "already holds" in capsys.readouterr().err
    assert _run(["--input", str(messy_dir), "--output", str(out), "--overwrite"]) == 0


def test_a_stage_that_loses_documents_fails_the_run(messy_dir, tmp_path, capsys, monkeypatch):
    """The accounting is a real check: a stage dropping documents without a Rejection fails the run."""
    import apache_beam as beam

    from pipeline import graph

    real = graph.apply_stages

    def leaky(docs, cfg):
        out = real(docs, cfg)
        return out._replace(kept=out.kept | "LoseFrench" >> beam.Filter(lambda d: d.lang != "fr"))

    monkeypatch.setattr(graph, "apply_stages", leaky)
    assert _run(["--input", str(messy_dir), "--output", str(tmp_path / "out")]) == 1
    assert "DOES NOT HOLD: records_read = kept + rejected + dead_letters" in capsys.readouterr().out


def test_a_file_read_in_parts_gives_the_records_of_a_file_read_whole(messy_dir, tmp_path):
    """read.split_bytes cuts the plain JSONL below into ~40 parts; ids, dead-letter locations and
    every output row stay as when it is read whole (only the config in stats and the manifest differs)."""
    many = [{"text": f"{GOOD[i % 4]['text']} Number {i}.", "source": GOOD[i % 4]["source"], **({"id": f"n{i}"} if i % 3 else {})} for i in range(400)]
    (messy_dir / "big.jsonl").write_bytes(_jsonl(many) + b'{"text": broken\n' + _jsonl(many[:5]))
    digests = []
    for name, split in (("whole", 64 * 2**20), ("parts", 1024)):
        cfg = tmp_path / f"{name}.yaml"
        cfg.write_text(f"read:\n  split_bytes: {split}\ndedup:\n  methods: [exact]\ntokenizer:\n  vocab_size: 400\n")
        assert _run(["--input", str(messy_dir), "--output", str(tmp_path / name), "--config", str(cfg)]) == 0
        digests.append(
            {k: v for k, v in tree_digest(tmp_path / name).items() if k.split("/")[0] in ("documents", "rejections", "dead_letters") or "shard-" in k}
        )
    assert digests[0] == digests[1] and any(k.startswith("dead_letters/") for k in digests[0])
