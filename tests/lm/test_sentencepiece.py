"""CCNet-style models (KenLM over SentencePiece pieces): training, scoring, and the stage's checks."""

import gzip
import json

import pytest

from pipeline.config import ConfigError
from pipeline.lm.query import query_perplexity
from pipeline.lm.train import SENTENCEPIECE_NORMALIZATION, train
from pipeline.records import Document
from pipeline.stages.perplexity import PERPLEXITY, ScorePerplexity, check_models, shipped_models
from pipeline.text.perplexity import PerplexityConfig
from pipeline.text.perplexity.ccnet import SentencePieceLines, ccnet_normalize_line
from pipeline.text.perplexity.model import LanguageModel
from tests.kenlm_tools import kenlm_tools


def test_ccnet_normalization():
    assert ccnet_normalize_line("  «Très» Bien… 2024！ ") == '"tres" bien... 0000!'
    assert ccnet_normalize_line("Tab\there\x85") == "tabhere"  # C0/C1 controls are removed, not spaced
    assert ccnet_normalize_line("   ") == ""


@pytest.fixture(scope="module")
def ccnet_style(tmp_path_factory):
    import sentencepiece

    tools = kenlm_tools()
    work = tmp_path_factory.mktemp("ccnet")
    with gzip.open("tests/data/perplexity_heldout.jsonl.gz", "rt", encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    wiki = [r["text"] for r in records if r["kind"] == "wiki"]
    corpus = work / "wiki.txt"
    corpus.write_text("\n".join(wiki) + "\n", encoding="utf-8")
    sentencepiece.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(work / "sp"), vocab_size=400, model_type="unigram", minloglevel=2, num_threads=1
    )
    sp = str(work / "sp.model")
    model = str(work / "lm.binary")
    meta = train([str(corpus)], model, order=3, quantize=0, tools=tools, sentencepiece=sp)
    return {"sp": sp, "model": model, "meta": meta, "tools": tools, "records": records}


def test_piece_model_scores_equal_query(ccnet_style):
    assert ccnet_style["meta"]["normalization"] == SENTENCEPIECE_NORMALIZATION
    model = LanguageModel(ccnet_style["model"], ccnet_style["sp"])
    pieces = SentencePieceLines(ccnet_style["sp"])
    for r in ccnet_style["records"][::25]:
        lines = pieces.lines(r["text"])
        assert lines and all("\u2581" in line for line in lines)  # pieces, with SentencePiece's word marks
        expected = query_perplexity(ccnet_style["tools"]["query"], ccnet_style["model"], lines)
        assert model.score(r["text"]).perplexity == pytest.approx(expected, rel=1e-6)


def test_stage_scores_with_the_piece_model(ccnet_style):
    cfg = PerplexityConfig(models={"en": ccnet_style["model"]}, sentencepiece={"en": ccnet_style["sp"]})
    check_models(cfg)
    scorer = ScorePerplexity(cfg)
    scorer.setup()
    text = "The river flows through the city and into the sea."
    (doc,) = scorer.annotate([Document(id="a", text=text, source="web", lang="en")])
    assert doc.scores[PERPLEXITY] == pytest.approx(LanguageModel(ccnet_style["model"], ccnet_style["sp"]).score(text).perplexity)


def test_mismatched_preparation_is_refused(ccnet_style):
    # A piece model scored as words, and a word model scored as pieces: both stop the run.
    with pytest.raises(ConfigError, match="trained on ccnet-sentencepiece-v1 text"):
        check_models(PerplexityConfig(models={"en": ccnet_style["model"]}))
    with pytest.raises(ConfigError, match="trained on ccnet-words-v1 text"):
        check_models(PerplexityConfig(models={"en": shipped_models()["en"]}, sentencepiece={"en": ccnet_style["sp"]}))
    with pytest.raises(ConfigError, match=r"^perplexity.sentencepiece.fr: has no KenLM model"):
        PerplexityConfig(models={"en": ccnet_style["model"]}, sentencepiece={"fr": ccnet_style["sp"]})
