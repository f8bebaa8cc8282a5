"""The shipped models on held-out real text, and our scores against KenLM's own `query` tool."""

import gzip
import json
import statistics
from collections import defaultdict

import pytest

from pipeline.lm.query import query_perplexity
from pipeline.stages.perplexity import shipped_models
from pipeline.text.perplexity.model import LanguageModel
from pipeline.text.perplexity.normalize import normalize_lines
from tests.kenlm_tools import kenlm_tools

FIXTURES = "tests/data/perplexity_heldout.jsonl.gz"
GOLDEN = "tests/data/perplexity_query_en.json"


@pytest.fixture(scope="module")
def fixtures():
    with gzip.open(FIXTURES, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def models():
    return {lang: LanguageModel(path) for lang, path in shipped_models().items()}


def _medians(model, fixtures, lang):
    by_kind = defaultdict(list)
    for r in fixtures:
        kind = r["kind"] if r["kind"] != "wiki" or r["lang"] == lang else "wiki_other"
        by_kind[kind].append(model.score(r["text"]).perplexity)
    return {k: statistics.median(v) for k, v in by_kind.items()}


def test_shipped_models_are_en_fr_es():
    assert sorted(shipped_models()) == ["en", "es", "fr"]


def test_english_model_orders_held_out_text(models, fixtures):
    m = _medians(models["en"], fixtures, "en")
    # Wikipedia < novels < technical docs and code < text in other languages (German; fr/es Wikipedia).
    assert m["wiki"] < m["novel"] < m["technical"] < m["code"] < m["foreign"] < m["wiki_other"]
    assert m["wiki"] < 400 and m["foreign"] > 10 * m["novel"]  # clear gaps, not a coin toss


@pytest.mark.parametrize("lang", ["fr", "es"])
def test_french_and_spanish_models_prefer_their_own_wikipedia(models, fixtures, lang):
    m = _medians(models[lang], fixtures, lang)
    assert m["wiki"] * 20 < min(v for k, v in m.items() if k != "wiki")


def test_scores_equal_kenlm_query_tool_goldens(models, fixtures):
    """The goldens are KenLM's `query` output (pipeline/lm/default_models.py writes them)."""
    with open(GOLDEN, encoding="utf-8") as f:
        golden = json.load(f)
    assert len(golden) == len(fixtures)
    for r in fixtures:
        ours = models["en"].score(r["text"]).perplexity
        assert ours == pytest.approx(golden[r["url"]], rel=1e-6), r["url"]


def test_scores_equal_kenlm_query_tool_live(models, fixtures):
    query = kenlm_tools()["query"]
    path = shipped_models()["en"]
    for r in fixtures[::10]:
        lines = normalize_lines(r["text"])
        assert models["en"].score_lines(lines).perplexity == pytest.approx(query_perplexity(query, path, lines), rel=1e-6)


def test_empty_document_has_no_perplexity(models):
    score = models["en"].score("\n  \n")
    assert score.tokens == 0 and score.perplexity is None
