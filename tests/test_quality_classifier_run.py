"""The quality classifier end to end through `pipeline.run.main`: trained in the run on a slice of
the sample, twice, with the same files; its held-out figures in stats.json and the report."""

import gzip
import hashlib
import json
import os

import pyarrow.parquet as pq
import pytest

from pipeline import run
from tests.test_registry import undeclared_scores
from tests.tree import tree_digest

SAMPLE = os.path.join(os.path.dirname(__file__), "..", "pipeline", "sample", "data")
# Only what the classifier needs: no dedup, no toxicity or perplexity models, no tokenizer.
CONFIG = """
dedup: {methods: []}
toxicity: {enabled: false}
perplexity: {enabled: false}
output: {write_tokens: false}
quality_classifier:
  enabled: true
  select: {mode: top_fraction, fraction: 0.5, min_reference: 20}
  train: {dim: 32, bucket: 20000, min_per_class: 20}
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("qc_run")
    records = []
    for source, n in (("web", 400), ("wiki", 250), ("curated", 150)):
        with gzip.open(os.path.join(SAMPLE, f"{source}.jsonl.gz"), "rt", encoding="utf-8") as f:
            records += [json.loads(line) for _, line in zip(range(n), f)]
    (root / "in.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    (root / "qc.yaml").write_text(CONFIG)
    outs = []
    for name in ("a", "b"):
        assert (
            run.main(["--runner=DirectRunner", "--input", str(root / "in.jsonl"), "--output", str(root / name), "--config", str(root / "qc.yaml")])
            == 0
        )
        outs.append(root / name)
    return outs


def test_two_runs_give_the_same_model_stats_and_rejections(runs):
    a, b = (tree_digest(r) for r in runs)
    assert "models/quality_classifier.bin" in a and "stats.json" in a
    assert any(k.startswith("rejections/quality_classifier.filter.v1/classifier_below_cutoff/") for k in a)
    assert a == b


def test_every_score_the_documents_carry_is_declared(runs):
    assert not undeclared_scores(runs[0])  # the classifier's score and cutoff included


def test_stats_hold_the_heldout_figures_and_the_cutoff(runs):
    stats = json.loads((runs[0] / "stats.json").read_text())
    assert stats["accounting"]["holds"]
    qc = stats["facts"]["quality_classifier"]
    model = (runs[0] / "models" / "quality_classifier.bin").read_bytes()
    assert qc["trained"] and qc["model"] == "models/quality_classifier.bin" and qc["sha256"] == hashlib.sha256(model).hexdigest()
    # Reference text vs web pages it never trained on: far better than chance.
    assert qc["heldout"]["positives"] >= 10 and qc["heldout"]["roc_auc"] > 0.85, qc["heldout"]
    cut = stats["facts"]["quality_classifier_cutoffs"]
    assert cut["mode"] == "top_fraction" and cut["cutoffs"]["web"]
    rejected = pq.read_table(runs[0] / "rejections" / "quality_classifier.filter.v1").to_pylist()
    assert rejected and all(r["source"] == "web" and "< cutoff" in r["detail"] for r in rejected)
    report = (runs[0] / "report.html").read_text()
    assert "Quality classifier" in report and "ROC AUC" in report and "hist:quality_classifier.fasttext.v1:score:web" in report
