"""What the pipeline hands the trainer: token shards, tokenizer.json and manifest.json, on the
built-in sample (default config) and on small inputs (tokenizer from a path, bad manifests)."""

import glob
import json
import os

import pyarrow.parquet as pq
import pytest

from pipeline import run
from pipeline.text.tokenize.tokenizer import load_tokenizer
from schemas.manifest import Manifest, ManifestError
from schemas.reader import TokenData
from tests.text.tokenize import _gpt2_path


def _documents(out) -> dict[str, str]:
    docs = {}
    for path in glob.glob(os.path.join(out, "documents", "*.parquet")):
        for r in pq.read_table(path, columns=["id", "text"]).to_pylist():
            docs[r["id"]] = r["text"]
    return docs


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample") / "out"
    assert run.main(["--runner=DirectRunner", "--output", str(out)]) == 0
    return str(out)


def test_default_run_writes_verified_shards_that_decode_to_the_documents(sample_run):
    data = TokenData(os.path.join(sample_run, "tokens", "manifest.json"))
    tokenizer = load_tokenizer(data.tokenizer_path)
    assert data.manifest.tokenizer.vocab_size == tokenizer.get_vocab_size() <= 32_000
    assert data.manifest.tokenizer.token_dtype == "uint16"
    eod = data.manifest.tokenizer.eod_id
    docs = _documents(sample_run)
    copies: dict[str, list[int]] = {}
    for i, shard in enumerate(data.shards):
        table = data.open_shard(i)  # sha256 checked against the manifest
        assert table.num_rows == shard.rows and sum(len(t) for t in table.column("tokens").to_pylist()) == shard.tokens
        for row in table.to_pylist():
            assert row["tokens"][-1] == eod and eod not in row["tokens"][:-1]
            assert tokenizer.decode(row["tokens"][:-1], skip_special_tokens=False) == docs[row["doc_id"]]
            copies.setdefault(row["doc_id"], []).append(row["copy"])
    assert set(copies) == set(docs)  # documents/ holds exactly the documents in the shards
    assert all(sorted(c) == list(range(len(c))) for c in copies.values())


def test_the_mixture_reaches_every_target_within_one_point(sample_run):
    manifest = Manifest.from_json(open(os.path.join(sample_run, "tokens", "manifest.json")).read())
    assert set(manifest.sources) == {"web", "books", "academic", "code", "wiki", "curated"}
    for name, source in manifest.sources.items():
        assert not source.warning, (name, source.warning)
        assert abs(source.achieved_share - source.target_share) <= 0.01, name
    # Web has the least text for its share: it binds, repeated the full 4 epochs.
    assert manifest.sources["web"].rate == 4.0 and manifest.sources["web"].epochs == 4.0
    assert sum(s.tokens_written for s in manifest.sources.values()) == manifest.total_tokens


def test_stats_account_for_the_mixture_and_tokens_per_word(sample_run):
    stats = json.loads(open(os.path.join(sample_run, "stats.json")).read())
    assert stats["accounting"]["holds"]
    assert stats["funnel"][-1]["stage"] == "mixture.v1"
    dropped = stats["rejections"]["mixture.v1"]["mixture_downsampled"]
    assert stats["funnel"][-1]["in"] - dropped == stats["funnel"][-1]["out"] == stats["accounting"]["kept"]
    per_word = stats["facts"]["tokens_per_word"]
    assert 1.0 < per_word["en"]["wiki"]["tokens_per_word"] < per_word["en"]["code"]["tokens_per_word"]
    assert stats["facts"]["tokens"]["rows"] > stats["accounting"]["kept"]  # web's repeats


TEXTS = [
    {"text": "The library opened a new reading room on Monday, with evening hours on Thursdays.", "source": "web"},
    {"text": "Le comité a publié son rapport annuel sur les bibliothèques publiques de la région.", "source": "wiki"},
    {"text": "def area(r):\n    return 3.14159 * r * r\n", "source": "code"},
]


@pytest.fixture
def small_dir(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "docs.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in TEXTS), encoding="utf-8")
    return d


QUIET = "quality:\n  apply: {}\ndedup:\n  methods: []\ntoxicity:\n  enabled: false\nperplexity:\n  enabled: false\nlanguage:\n  keep: []\n  threshold: 0.0\n  thresholds: {}\n"


def test_a_tokenizer_from_a_path_gives_its_own_ids(small_dir, tmp_path):
    path = _gpt2_path()
    if path.startswith("SKIP: "):
        pytest.skip(path[6:])
    cfg = tmp_path / "c.yaml"
    cfg.write_text(QUIET + f"tokenizer:\n  path: {path}\nmixture:\n  shares: {{web: 0.5, wiki: 0.3, code: 0.2}}\n")
    out = tmp_path / "out"
    assert run.main(["--runner=DirectRunner", "--input", str(small_dir), "--output", str(out), "--config", str(cfg)]) == 0
    data = TokenData(str(out / "tokens" / "manifest.json"))
    gpt2 = load_tokenizer(path)
    assert data.manifest.tokenizer.vocab_size == 50257 and data.manifest.tokenizer.eod_id == 50256
    by_text = {r["text"]: r for r in TEXTS}
    docs = _documents(out)
    for i in range(len(data.shards)):
        for row in data.open_shard(i).to_pylist():
            assert row["tokens"] == gpt2.encode(docs[row["doc_id"]], add_special_tokens=False).ids + [50256]
            assert docs[row["doc_id"]] in by_text


def test_bad_tokenizer_or_shares_stop_the_run_with_one_line(small_dir, tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("tokenizer:\n  path: /nonexistent/tokenizer.json\n")
    assert run.main(["--runner=DirectRunner", "--input", str(small_dir), "--output", str(tmp_path / "o1"), "--config", str(cfg)]) == 2
    assert capsys.readouterr().err == "error: tokenizer.path: no file at /nonexistent/tokenizer.json\n"
    cfg.write_text("mixture:\n  shares: {web: 0.5, books: 0.4}\n")
    assert run.main(["--runner=DirectRunner", "--input", str(small_dir), "--output", str(tmp_path / "o2"), "--config", str(cfg)]) == 2
    assert capsys.readouterr().err == "error: mixture.shares: must sum to 1, got 0.9\n"


def test_sources_without_documents_or_share_are_explained(small_dir, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(QUIET + "tokenizer:\n  vocab_size: 300\nmixture:\n  shares: {web: 0.7, books: 0.3}\n")
    out = tmp_path / "out"
    assert run.main(["--runner=DirectRunner", "--input", str(small_dir), "--output", str(out), "--config", str(cfg)]) == 0
    sources = TokenData(str(out / "tokens" / "manifest.json")).manifest.sources
    assert sources["books"].warning.startswith("no documents left after filtering")
    assert sources["wiki"].warning.startswith("not in mixture.shares") and sources["wiki"].tokens_written == 0
    assert sources["web"].achieved_share == 1.0
    stats = json.loads((out / "stats.json").read_text())
    assert stats["rejections"]["mixture.v1"] == {"mixture_not_in_shares": 2} and stats["accounting"]["holds"]


@pytest.mark.parametrize("bad", ["../outside.arrow", "/etc/passwd", "a/../../b.arrow", "gs://bucket/x.arrow", ""])
def test_manifest_paths_may_not_leave_its_folder(sample_run, bad):
    raw = json.loads(open(os.path.join(sample_run, "tokens", "manifest.json")).read())
    raw["shards"][0]["path"] = bad
    with pytest.raises(ManifestError, match="must be relative to the manifest's folder"):
        Manifest.from_json(json.dumps(raw))


def test_a_changed_shard_is_named(sample_run, tmp_path):
    import shutil

    copy = tmp_path / "tokens"
    shutil.copytree(os.path.join(sample_run, "tokens"), copy)
    shard = copy / TokenData(str(copy / "manifest.json")).shards[0].path
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 1
    shard.write_bytes(bytes(data))
    with pytest.raises(ManifestError, match=r"shard shard-00000.arrow is corrupt or was replaced"):
        TokenData(str(copy / "manifest.json")).open_shard(0)
