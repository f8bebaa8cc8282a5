"""Training a model with the real lmplz/build_binary, and the build script's errors."""

import json

import pytest

from pipeline.lm import build_tools
from pipeline.lm.query import query_perplexity
from pipeline.lm.train import NORMALIZATION, main, metadata_path, train
from pipeline.text.perplexity.model import LanguageModel
from pipeline.text.perplexity.normalize import normalize_lines
from tests.kenlm_tools import kenlm_tools

CORPUS = [
    "The cat sat on the mat.",
    "The dog sat on the log.",
    "A cat and a dog sat on the mat in 1999!",
    "Élève: the café served 12 croissants.",
] * 20


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(CORPUS) + "\n\n", encoding="utf-8")
    return str(path)


def test_train_writes_a_model_that_scores_like_query(corpus, tmp_path):
    tools = kenlm_tools()
    out = str(tmp_path / "m.binary")
    meta = train([corpus], out, order=3, quantize=0, tools=tools)
    assert meta["order"] == 3 and meta["normalization"] == NORMALIZATION and meta["training_lines"] == len(CORPUS)
    assert json.loads(open(metadata_path(out)).read()) == meta
    model = LanguageModel(out)
    assert model.order == 3
    seen = model.score("the cat sat on the log").perplexity
    unseen = model.score("colourless green ideas sleep furiously").perplexity
    assert seen < unseen
    lines = normalize_lines("The CAT sat on the mat, in 2001.\nA dog!")
    assert model.score_lines(lines).perplexity == pytest.approx(query_perplexity(tools["query"], out, lines), rel=1e-6)


def test_training_is_deterministic_and_quantization_keeps_scores(corpus, tmp_path):
    tools = kenlm_tools()
    a, b, q = (str(tmp_path / n) for n in ("a.binary", "b.binary", "q.binary"))
    train([corpus], a, order=3, quantize=0, tools=tools)
    train([corpus], b, order=3, quantize=0, tools=tools)
    assert train([corpus], q, order=3, quantize=8, tools=tools)["quantize_bits"] == 8
    assert open(a, "rb").read() == open(b, "rb").read()
    text = "the cat sat on the mat\na dog sat on the log"
    exact, quantized = LanguageModel(a).score(text).perplexity, LanguageModel(q).score(text).perplexity
    assert quantized == pytest.approx(exact, rel=0.1)  # tiny data: 256 levels can be exact


@pytest.mark.parametrize(
    "kwargs, message",
    [({"order": 7}, "order"), ({"quantize": 30}, "quantize"), ({"order": 3, "prune": [1]}, "prune"), ({"order": 2, "prune": [0, 1, 1]}, "prune")],
)
def test_bad_options_are_refused_before_any_work(corpus, tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        train([corpus], str(tmp_path / "x.binary"), tools={"lmplz": "/nonexistent", "build_binary": "/nonexistent"}, **kwargs)


def test_cli_says_how_to_get_missing_tools(corpus, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(build_tools.BIN_ENV, str(tmp_path / "no-tools"))
    assert main(["--text", corpus, "--out", str(tmp_path / "m.binary")]) == 1
    err = capsys.readouterr().err
    assert "python -m pipeline.lm.build_tools" in err and err.count("\n") == 1
