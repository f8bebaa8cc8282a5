"""P(offensive) from alt-profanity-check's model: a TF-IDF bag of English words (scikit-learn's
TfidfVectorizer, English stop words removed, L2-normalised) into a calibrated linear SVM.

We load the package's two joblib files ourselves, once per process, and score a batch in one
vectorised call; profanity_check.predict_prob gives the same numbers but loads on import and
walks the result with np.apply_along_axis. The model was trained on short texts (comments and
tweets) in English; on other languages it sees few known words and says little. Speed: ~9 MB/s
(25,000 fortune-sized texts/s) on one core in either mode (bench/toxicity_eval.py).

Modes. "document" scores the text whole; "max_paragraph" scores each paragraph (lines between
blank lines) and keeps the maximum. On bench/toxicity_eval.py's English set (offensive vs
ordinary fortunes, ~20 words each, plus 392 benign prose texts), at a threshold of 0.9:
  document       precision 0.939, recall 0.099; long texts with one offensive fortune
                 inserted as a paragraph: 0.0% found; neutral long prose flagged 0.0%;
  max_paragraph  precision 0.931, recall 0.102; long texts with one offensive fortune: 10.0%
                 found; neutral long prose (Austen, Debian Reference) flagged 2.2%.
(At 0.5: F1 0.336 vs 0.345; long texts 0.0% vs 34.4% found, 0.0% vs 16.6% neutral flagged.)
On short texts the two agree; on long ones the L2-normalised TF-IDF of the whole text dilutes
an offensive passage until the model never fires, so "document" misses every offensive passage
inside a long page. "max_paragraph" keeps the short-text behaviour the model was trained for,
at the cost of the paragraphs it misreads ("I hate to see you standing about by yourself in
this stupid manner", the man page of the Unix "suck" command): it is the default, meant to be
used with a high threshold (0.9). Scoring each line instead catches more offensive fortunes
(F1 0.470 at 0.5) but flags 77% of neutral long prose at 0.5 and 14% at 0.9.
"""

from __future__ import annotations

import importlib.resources
import re

import numpy as np

MODES = ("document", "max_paragraph")
DEFAULT_MODE = "max_paragraph"
# A paragraph is a run of lines between blank lines.
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")


# Texts the linear shortcut is checked on at load time against scikit-learn's own predict_proba.
_PROBES = ["you are a fucking idiot", "what a lovely day in the park", "shut up, moron", "the committee met on Monday", ""]


def _linear_shortcut(model):
    """alt-profanity-check's model is CalibratedClassifierCV(LinearSVC, sigmoid) over 5 folds:
    P(offensive) = mean_i expit(-(a_i * (x . w_i + c_i) + b_i)). Stacking the 5 weight vectors
    computes it with one sparse product, skipping scikit-learn's per-call input validation
    (run 5 times per batch; it was a quarter of the classifier's time). Returns None when the
    model is not of that shape (another version), and the caller uses predict_proba."""
    try:
        if list(model.classes_) != [0, 1] or model.method != "sigmoid":
            return None
        parts = model.calibrated_classifiers_
        if any(len(p.calibrators) != 1 or p.estimator.coef_.shape[0] != 1 for p in parts):
            return None
        weights = np.stack([p.estimator.coef_[0] for p in parts], axis=1)  # (features, folds)
        intercepts = np.array([p.estimator.intercept_[0] for p in parts])
        a = np.array([p.calibrators[0].a_ for p in parts])
        b = np.array([p.calibrators[0].b_ for p in parts])
    except AttributeError:
        return None

    def prob(features) -> np.ndarray:
        from scipy.special import expit

        return expit(-(a * (features @ weights + intercepts) + b)).mean(axis=1)

    return prob


class ProfanityClassifier:
    """alt-profanity-check's vectorizer and model, loaded once; build one per process."""

    def __init__(self, mode: str = DEFAULT_MODE):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        import joblib  # scikit-learn comes with the unpickling: import it only when a classifier is built

        data = importlib.resources.files("profanity_check") / "data"
        with (data / "vectorizer.joblib").open("rb") as f:
            self._vectorizer = joblib.load(f)
        with (data / "model.joblib").open("rb") as f:
            self._model = joblib.load(f)
        self.mode = mode
        self._linear = _linear_shortcut(self._model)
        if self._linear is not None:
            features = self._vectorizer.transform(_PROBES)
            if not np.allclose(self._linear(features), self._model.predict_proba(features)[:, 1], rtol=0, atol=1e-12):
                self._linear = None

    def _prob(self, texts: list[str]) -> np.ndarray:
        features = self._vectorizer.transform(texts)
        if self._linear is not None:
            return self._linear(features)
        return self._model.predict_proba(features)[:, 1]

    def predict_prob(self, texts: list[str]) -> np.ndarray:
        """P(offensive) per text, float64, in order; one model call for the whole batch."""
        if not texts:
            return np.zeros(0)
        if self.mode == "document":
            return self._prob(texts)
        # max_paragraph: every paragraph of the batch in one call, then the maximum per text.
        # A text without a non-blank paragraph is scored whole (as "document" would).
        pieces, starts = [], []
        for text in texts:
            starts.append(len(pieces))
            paragraphs = [p for p in _PARAGRAPH_BREAK.split(text) if p.strip()]
            pieces += paragraphs or [text]
        return np.maximum.reduceat(self._prob(pieces), starts)
