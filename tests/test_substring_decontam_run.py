"""End to end through pipeline.run.main: exact + substring dedup and decontamination on sample text
with planted repeats and an evaluation passage; the accounting holds and both are gone."""

import gzip
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from pipeline import run
from pipeline.stages.decontaminate import DECONTAM_STAGE
from pipeline.stages.dedup import EXACT_STAGE
from pipeline.stages.substring_dedup import CHARS_REMOVED, SUBSTRING_STAGE
from pipeline.text import decontam
from pipeline.text.dedup.substring import words
from pipeline.text.dedup.substring_reference import planted_corpus, reference_removed
from tests.test_registry import undeclared_scores

pytest.importorskip("pydivsufsort", reason="the suffix-array reference needs pydivsufsort (pip install -e '.[dev]')")

SAMPLE = Path(__file__).resolve().parents[1] / "pipeline" / "sample" / "data"
K = 34
CONFIG = """\
language:
  keep: []
  threshold: 0.0
  thresholds: {}
quality:
  apply: {"*": []}
dedup:
  methods: [exact, substring]
  substring:
    max_removed_fraction: 1.0
    min_chars_left: 0
decontamination:
  enabled: true
  eval_sets: [EVAL]
output:
  write_tokens: false
"""


def test_run_cuts_planted_repeats_and_the_eval_passage(tmp_path):
    with gzip.open(SAMPLE / "wiki.jsonl.gz", "rt", encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line, _ in zip(f, range(600))]
    eval_passage, texts = texts[0], texts[1:]  # a wiki article stands in for a benchmark passage
    assert len(words(eval_passage)) > 40
    docs, planted = planted_corpus(texts, 30, K, seed=5, disjoint=True)
    natural = reference_removed(planted_corpus(texts, 0, K, seed=5)[0], K)
    records = [{"id": i, "text": t, "source": "wiki"} for i, t in docs]
    records.append({"id": "zz-exact-copy", "text": docs[3][1], "source": "wiki"})
    leaked = ["doc-00007", "doc-00011"]
    for r in records:
        if r["id"] in leaked:  # the passage quoted, in other case and punctuation
            r["text"] = r["text"] + "\n" + eval_passage.upper().replace(",", ";")
    corpus = tmp_path / "in" / "corpus.jsonl"
    corpus.parent.mkdir()
    corpus.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    eval_set = tmp_path / "eval.jsonl"
    eval_set.write_text(json.dumps({"text": eval_passage}) + "\n")
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(CONFIG.replace("EVAL", str(eval_set)))
    out = tmp_path / "out"
    assert run.main(["--runner=DirectRunner", "--input", str(corpus), "--output", str(out), "--config", str(cfg)]) == 0

    stats = json.loads((out / "stats.json").read_text())
    assert stats["accounting"]["holds"]
    assert stats["rejections"][EXACT_STAGE] == {"exact_duplicate": 1}
    # The second quote of the passage is a repeat: substring dedup cuts it before decontamination
    # sees it; the first is contaminated.
    assert stats["rejections"][DECONTAM_STAGE] == {"contaminated": 1}
    assert stats["facts"]["decontamination"][str(eval_set)]["documents_rejected"] == 1
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<section id="decontamination">' in html and "eval.jsonl" in html
    assert "characters cut as repeated spans" in html and "share of the characters cut as repeated spans" in html
    rejected = {r["doc_id"]: r for r in pq.read_table(out / "rejections").to_pylist()}
    assert sorted(rejected) == ["doc-00007", "zz-exact-copy"]
    assert rejected["zz-exact-copy"]["stage"] == EXACT_STAGE
    assert rejected["doc-00007"]["stage"] == DECONTAM_STAGE and str(eval_set) in rejected["doc-00007"]["detail"]

    kept = {r["id"]: r for r in pq.read_table(out / "documents").to_pylist()}
    assert len(kept) == len(records) - 2
    assert not undeclared_scores(out)  # substring and decontamination scores included
    assert dict(kept["doc-00011"]["scores"])[CHARS_REMOVED] >= len(eval_passage) * 0.9
    eval_hashes = decontam.set_hashes([eval_passage], 13)
    assert not any(np.isin(decontam.ngram_hashes(r["text"], 13), eval_hashes).any() for r in kept.values())
    joined = {i: " " + " ".join(words(r["text"])) + " " for i, r in kept.items()}
    checked = 0
    for src, dst, span in planted:
        needle = " " + " ".join(words(span)) + " "
        holders = [i for i, t in joined.items() if needle in t]
        assert len(holders) <= 1
        if not natural[src].any() and not natural[dst].any() and not {src, dst} & set(leaked):
            assert holders == [min(src, dst)]
            later = max(src, dst)
            assert dict(kept[later]["scores"])[CHARS_REMOVED] >= len(span)
            checked += 1
    assert checked >= 20
    assert SUBSTRING_STAGE not in stats["rejections"]  # cut, none rejected (max_removed_fraction 1)
