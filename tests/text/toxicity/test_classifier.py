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


def test_linear_shortcut_is_used_and_equals_scikit_learn_on_real_text(document):
    import glob
    import gzip
    import json

    assert document._linear is not None  # the installed model has the shape the shortcut expects
    texts = []
    for path in sorted(glob.glob("pipeline/sample/data/*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            texts += [json.loads(line)["text"] for _, line in zip(range(100), f)]
    features = document._vectorizer.transform(texts)
    assert np.allclose(document._linear(features), document._model.predict_proba(features)[:, 1], rtol=0, atol=1e-12)
