"""The perplexity stage through Beam: scores, run/fixed/off cutoffs, exact kept and rejected sets,
skipped-rule counts, and the model checks that stop a run before it starts."""

import gzip
import json

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.util import assert_that, equal_to

from pipeline.config import ConfigError
from pipeline.records import Document
from pipeline.stages.base import Annotate, Filter
from pipeline.stages.perplexity import (
    BUCKET,
    FILTER_STAGE,
    PERPLEXITY,
    AssignBuckets,
    PerplexityCutoffs,
    PerplexityGate,
    ScorePerplexity,
    check_models,
    model_paths,
    reference_key,
    shipped_models,
)
from pipeline.text.perplexity import PerplexityConfig
from pipeline.text.perplexity.model import LanguageModel
from tests.local_beam import local_test_pipeline

SEED = 7


@pytest.fixture(scope="module")
def web_docs():
    """Held-out fixtures of every kind, all labelled English web pages: a spread of perplexities."""
    with gzip.open("tests/data/perplexity_heldout.jsonl.gz", "rt", encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    return [Document(id=r["url"], text=r["text"], source="web", lang="en") for r in records][:200]


@pytest.fixture(scope="module")
def english():
    return LanguageModel(shipped_models()["en"])


def _run(docs, cfg):
    p = local_test_pipeline()
    scored = p | beam.Create(docs) | Annotate(ScorePerplexity(cfg), batch_size=16)
    cutoffs = scored | PerplexityCutoffs(cfg, SEED)
    result = scored | AssignBuckets(cfg, cutoffs) | Filter(PerplexityGate(cfg), keep_rejected_text=False)
    return p, result, cutoffs


def _expected_buckets(docs, english, cuts):
    ppl = {d.id: english.score(d.text).perplexity for d in docs}
    return ppl, {i: 0 if v < cuts[0] else 1 if v < cuts[1] else 2 for i, v in ppl.items()}


def test_run_cutoffs_come_from_a_hash_sample_and_gate_exactly(web_docs, english):
    cfg = PerplexityConfig(reference_size=100, min_reference=10)
    ppl = {d.id: english.score(d.text).perplexity for d in web_docs}
    sample = sorted(web_docs, key=lambda d: reference_key(SEED, d.id))[:100]
    cuts = list(np.percentile([ppl[d.id] for d in sample], [30, 60]))
    _, bucket = _expected_buckets(web_docs, english, cuts)
    assert sorted(bucket.values()).count(2) > 50  # the fixture exercises every bucket
    p, result, cutoffs = _run(web_docs, cfg)
    assert_that(
        cutoffs | beam.Map(lambda c: (sorted(c), [round(x, 6) for x in c["en"]["cutoffs"]], c["en"]["sample"])),
        equal_to([(["en"], [round(x, 6) for x in cuts], 100)]),
        label="cutoffs",
    )
    assert_that(
        result.kept | "K" >> beam.Map(lambda d: (d.id, round(d.scores[PERPLEXITY], 6), d.scores[BUCKET])),
        equal_to([(i, round(ppl[i], 6), float(b)) for i, b in bucket.items() if b < 2]),
        label="kept",
    )
    assert_that(
        result.rejected | "R" >> beam.Map(lambda r: (r.doc_id, r.stage, r.reason)),
        equal_to([(i, FILTER_STAGE, "perplexity_tail") for i, b in bucket.items() if b == 2]),
        label="rejected",
    )
    p.run()


def test_unscored_documents_pass_and_are_counted(english):
    cfg = PerplexityConfig(min_reference=2)
    docs = [
        Document(id="code", text="def f(x):\n    return x\n", source="code", lang="en"),  # exempt: never scored
        Document(id="de", text="Der Ausschuss hat seinen Bericht veröffentlicht.", source="web", lang="de"),  # no model
        Document(id="punct", text="!!! ... ???", source="web", lang="en"),  # no words left
        Document(id="wiki", text="Paris is the capital of France.", source="wiki", lang="en"),  # scored, not gated
        Document(id="es", text="El comité publicó su informe anual.", source="web", lang="es"),  # 1 < min_reference
    ]
    p, result, cutoffs = _run(docs, cfg)
    assert_that(
        result.kept | "K" >> beam.Map(lambda d: (d.id, PERPLEXITY in d.scores, BUCKET in d.scores)),
        equal_to([("code", False, False), ("de", False, False), ("punct", False, False), ("wiki", True, False), ("es", True, False)]),
        label="kept",
    )
    assert_that(result.rejected, equal_to([]), label="rejected")
    assert_that(
        result.skipped,
        equal_to([(FILTER_STAGE, "no_model", "de"), (FILTER_STAGE, "no_words", "en"), (FILTER_STAGE, "no_cutoffs", "es")]),
        label="skipped",
    )
    assert_that(cutoffs, equal_to([{}]), label="cutoffs")
    p.run()


def test_fixed_cutoffs_and_hard_maximum(web_docs, english):
    cuts = [300.0, 3000.0]
    cfg = PerplexityConfig(buckets="fixed", cutoffs={"en": cuts}, keep=["head"], max_perplexity={"*": 20000.0})
    ppl, bucket = _expected_buckets(web_docs, english, cuts)
    expected = {}
    for i, v in ppl.items():
        expected[i] = "perplexity_above_max" if v > 20000 else [None, "perplexity_middle", "perplexity_tail"][bucket[i]]
    assert {"perplexity_above_max", "perplexity_middle", "perplexity_tail", None} == set(expected.values())
    p, result, _ = _run(web_docs, cfg)
    assert_that(result.kept | "K" >> beam.Map(lambda d: d.id), equal_to([i for i, r in expected.items() if r is None]), label="kept")
    assert_that(
        result.rejected | "R" >> beam.Map(lambda r: (r.doc_id, r.reason)), equal_to([(i, r) for i, r in expected.items() if r]), label="rejected"
    )
    p.run()


def test_buckets_off_keeps_all_under_the_maximum(web_docs, english):
    cfg = PerplexityConfig(buckets="off", max_perplexity={"en": 5000.0})
    ppl = {d.id: english.score(d.text).perplexity for d in web_docs}
    p, result, _ = _run(web_docs, cfg)
    assert_that(result.kept | "K" >> beam.Map(lambda d: d.id), equal_to([i for i, v in ppl.items() if v <= 5000]), label="kept")
    p.run()


def test_configured_models_add_to_the_shipped_ones(tmp_path):
    german = tmp_path / "de.binary"
    german.write_bytes(open(shipped_models()["en"], "rb").read())  # any KenLM model will do
    (tmp_path / "de.binary.json").write_text(open(shipped_models()["en"] + ".json").read())
    cfg = PerplexityConfig(models={"de": str(german)})
    check_models(cfg)
    assert sorted(model_paths(cfg)) == ["de", "en", "es", "fr"]
    scorer = ScorePerplexity(cfg)
    scorer.setup()
    docs = [Document(id=lang, text="The river flows through the old city.", source="web", lang=lang) for lang in ("de", "en", "it")]
    assert [PERPLEXITY in d.scores for d in scorer.annotate(docs)] == [True, True, False]
    # a language given replaces its shipped model; shipped_models: false leaves only the given ones
    assert model_paths(PerplexityConfig(models={"en": str(german)}))["en"] == str(german)
    assert sorted(model_paths(PerplexityConfig(models={"de": str(german)}, shipped_models=False))) == ["de"]
    with pytest.raises(ConfigError, match=r"^perplexity.models: is empty and shipped_models is false"):
        PerplexityConfig(shipped_models=False)


def test_a_model_without_its_training_record_is_refused_unless_allowed(tmp_path, caplog):
    bare = tmp_path / "de.binary"
    bare.write_bytes(open(shipped_models()["en"], "rb").read())
    with pytest.raises(ConfigError, match=r"^perplexity.models.de: .* has no .*de.binary.json .* set perplexity.allow_unrecorded: true"):
        check_models(PerplexityConfig(models={"de": str(bare)}))
    with caplog.at_level("WARNING"):
        check_models(PerplexityConfig(models={"de": str(bare)}, allow_unrecorded=True))
    assert "perplexity.models.de" in caplog.text and "no record" in caplog.text


def test_model_checks_fail_fast(tmp_path):
    with pytest.raises(ConfigError, match=r"^perplexity.models.xx: no file at "):
        check_models(PerplexityConfig(models={"xx": str(tmp_path / "missing.binary")}))
    model = tmp_path / "old.binary"
    model.write_bytes(open(shipped_models()["en"], "rb").read())
    (tmp_path / "old.binary.json").write_text(json.dumps({"normalization": "something-else"}))
    with pytest.raises(ConfigError, match="trained on something-else text"):
        check_models(PerplexityConfig(models={"en": str(model)}))
    check_models(PerplexityConfig())  # the shipped models pass
    with pytest.raises(ConfigError, match="perplexity.cutoffs: buckets: fixed needs cutoffs"):
        PerplexityConfig(buckets="fixed")
    with pytest.raises(ConfigError, match=r"perplexity.keep\[0\]: unknown bucket 'top'"):
        PerplexityConfig(keep=["top"])
