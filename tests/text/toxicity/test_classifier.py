"""alt-profanity-check's model loaded by us (pipeline.text.toxicity.classifier): the package's
own numbers, both scoring modes, batches."""

import numpy as np
import pytest

from pipeline.text.toxicity.classifier import DEFAULT_MODE, ProfanityClassifier

TEXTS = [
    "",
    "Thank you for the detailed review, I will update the patch tomorrow.",
    "You are a fucking idiot and your code is shit.",
    "The committee meets on Tuesday to discuss the budget.",
    "Go to hell, you stupid bastard.",
    "Breast cancer screening is recommended for women over fifty.",
]
OFFENSIVE = ["You are a fucking idiot and your code is shit.", "Shut up, you worthless piece of crap.", "Fuck off, bitch."]
ORDINARY = [
    "The train leaves at half past nine from platform two.",
    "Add the flour slowly and stir until smooth.",
    "Please find the quarterly report attached.",
]


@pytest.fixture(scope="module")
def document():
    return ProfanityClassifier("document")


@pytest.fixture(scope="module")
def max_paragraph():
    return ProfanityClassifier("max_paragraph")


def test_document_mode_gives_profanity_checks_numbers(document):
    import profanity_check

    assert np.allclose(document.predict_prob(TEXTS), profanity_check.predict_prob(TEXTS), rtol=0, atol=1e-12)


def test_offensive_texts_score_above_ordinary_ones(document, max_paragraph):
    for clf in (document, max_paragraph):
        off, ordinary = clf.predict_prob(OFFENSIVE), clf.predict_prob(ORDINARY)
        assert off.min() > 0.9 and ordinary.max() < 0.5


def test_max_paragraph_is_the_max_over_blank_line_separated_paragraphs(document, max_paragraph):
    paragraphs = ORDINARY + [OFFENSIVE[0]]
    long_text = "\n\n".join(ORDINARY * 20 + [OFFENSIVE[0]])
    (whole,) = document.predict_prob([long_text])
    (best,) = max_paragraph.predict_prob([long_text])
    assert best == pytest.approx(document.predict_prob(paragraphs).max())
    assert best > 0.9 and whole < 0.5  # scored whole, the one offensive paragraph is diluted
    # One paragraph, or none: the same as scoring the text whole.
    assert np.allclose(max_paragraph.predict_prob(TEXTS), document.predict_prob(TEXTS))
    assert max_paragraph.predict_prob(["\n \n"])[0] == pytest.approx(document.predict_prob(["\n \n"])[0])


def test_a_batch_scores_each_text_as_alone(max_paragraph):
    texts = ["a\n\nb", OFFENSIVE[1], "", "\n\n".join(ORDINARY)]
    batch = max_paragraph.predict_prob(texts)
    alone = np.array([max_paragraph.predict_prob([t])[0] for t in texts])
    assert batch.shape == (4,) and batch.dtype == np.float64
    assert np.allclose(batch, alone)
    assert max_paragraph.predict_prob([]).shape == (0,)


def test_modes():
    assert DEFAULT_MODE == "max_paragraph"
    with pytest.raises(ValueError):
        ProfanityClassifier("sentence")


def _sample_texts(per_file: int = 100) -> list[str]:
    import glob
    import gzip
    import json

    texts = []
    for path in sorted(glob.glob("pipeline/sample/data/*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            texts += [json.loads(line)["text"] for _, line in zip(range(per_file), f)]
    return texts


EDGE_CASES = [
    "",
    " ",
    "\n\n",
    "İSTANBUL ŞEHİR Straße ÆØÅ café",
    "foo_bar __init__ x1 12 a b",
    "日本語のテキスト fuck",
    "FUCK FUCK fuck you",
    "the and of",
]


def test_scores_come_without_scikit_learn_and_equal_its_bit_for_bit(document):
    import joblib

    from pipeline.text.toxicity.classifier import _data_dir

    # The installed model takes the path without scikit-learn (a new release that changes the
    # files' shape falls back, and this says so).
    assert type(document._vectorizer).__name__ == "_TfidfWords" and document._model is None
    vectorizer = joblib.load(f"{_data_dir()}/vectorizer.joblib")
    model = joblib.load(f"{_data_dir()}/model.joblib")
    texts = _sample_texts() + EDGE_CASES
    ours, theirs = document._vectorizer.transform(texts), vectorizer.transform(texts)
    assert np.array_equal(ours.indptr, theirs.indptr) and np.array_equal(ours.indices, theirs.indices)
    assert np.array_equal(ours.data, theirs.data)  # the same floats, not just close ones
    assert np.array_equal(document._linear(ours), document._linear(theirs))
    assert np.allclose(document._linear(theirs), model.predict_proba(theirs)[:, 1], rtol=0, atol=1e-12)


def test_a_worker_scoring_never_imports_scikit_learn():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from pipeline.text.toxicity.classifier import ProfanityClassifier\n"
        "for mode in ('document', 'max_paragraph'):\n"
        "    assert ProfanityClassifier(mode).predict_prob(['you idiot', 'a\\n\\nb']).shape == (2,)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'profanity_check')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_model_of_another_shape_is_left_to_scikit_learn(monkeypatch, document):
    from pipeline.text.toxicity import classifier

    monkeypatch.setitem(classifier._REPRODUCED, "sublinear_tf", True)  # as if the release changed a setting
    fallback = ProfanityClassifier("document")
    assert fallback._model is not None and type(fallback._vectorizer).__name__ == "TfidfVectorizer"
    texts = _sample_texts(20) + EDGE_CASES
    assert np.allclose(fallback.predict_prob(texts), document.predict_prob(texts), rtol=0, atol=1e-12)
