"""P(offensive) from alt-profanity-check's model: a TF-IDF bag of English words (scikit-learn's
TfidfVectorizer, English stop words removed, L2-normalised) into a calibrated linear SVM.

We load the package's two joblib files ourselves, once per process, and score a batch in one
vectorised call; profanity_check.predict_prob gives the same numbers but loads on import and
walks the result with np.apply_along_axis. We read the files without scikit-learn, whose
import stays in a worker for its life, and compute the TF-IDF and the SVMs' sum ourselves, to
the same bits; a model of another shape is left to scikit-learn. The model was trained on short
texts (comments and tweets) in English; on other languages it sees few known words and says
little. Speed: ~9 MB/s (25,000 fortune-sized texts/s) on one core in either mode
(bench/toxicity_eval.py).

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

import importlib.util
import os
import re

import numpy as np

MODES = ("document", "max_paragraph")
DEFAULT_MODE = "max_paragraph"
# A paragraph is a run of lines between blank lines.
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")


# Texts the linear shortcut is checked on at load time against scikit-learn's own predict_proba
# (where scikit-learn is loaded at all: see ProfanityClassifier).
_PROBES = ["you are a fucking idiot", "what a lovely day in the park", "shut up, moron", "the committee met on Monday", ""]


def _data_dir() -> str:
    """The package's data folder, found without importing the package: its import loads the
    model with scikit-learn, which is what we avoid."""
    spec = importlib.util.find_spec("profanity_check")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("alt-profanity-check is not installed; install it or set toxicity.classifier_threshold to null")
    return os.path.join(spec.submodule_search_locations[0], "data")


class _Fitted:
    """What an unpickled scikit-learn object becomes in _load_without_sklearn: its attributes."""

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


def _load_without_sklearn(path: str):
    """A joblib file with every scikit-learn class read as a plain _Fitted holder of its fitted
    attributes. Building the classifier through scikit-learn cost a process that had imported
    the pipeline 0.95 s and 84 MiB of RSS, kept for the worker's life; this way 0.13 s and 17 MiB,
    for a model whose arithmetic is a dictionary lookup and two sparse products. Raises on a file
    this cannot read; the caller falls back to scikit-learn."""
    from joblib import numpy_pickle

    class Unpickler(numpy_pickle.NumpyUnpickler):
        def find_class(self, module, name):
            if module.split(".")[0] == "sklearn":
                return type(name, (_Fitted,), {})
            return super().find_class(module, name)

    with open(path, "rb") as f, numpy_pickle._validate_fileobject_and_memmap(f, path, None) as (fobj, _):
        return Unpickler(path, fobj, False).load()


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


# The TfidfVectorizer settings _TfidfWords computes; a vectorizer with any other is left to
# scikit-learn. (min_df, max_df and stop_words act when the vocabulary is fitted, not after.)
_REPRODUCED = {
    "input": "content",
    "analyzer": "word",
    "preprocessor": None,
    "tokenizer": None,
    "lowercase": True,
    "strip_accents": None,
    "ngram_range": (1, 1),
    "binary": False,
    "norm": "l2",
    "use_idf": True,
    "sublinear_tf": False,
    "fixed_vocabulary_": False,
}


class _TfidfWords:
    """TfidfVectorizer.transform for the settings in _REPRODUCED, in numpy and scipy.sparse,
    giving the same matrix bit for bit: lowercase, the token pattern's words, counts of those in
    the vocabulary (stop words never are: fitting removed them before learning it), times idf,
    each row divided by its L2 norm summed in column order as scikit-learn sums it."""

    def __init__(self, fitted):
        self.vocabulary: dict[str, int] = fitted.vocabulary_
        self.idf: np.ndarray = fitted._tfidf.idf_
        self._find = re.compile(fitted.token_pattern).findall

    @classmethod
    def of(cls, fitted) -> _TfidfWords | None:
        """None where the vectorizer is not one this reproduces."""
        try:
            if any(getattr(fitted, key) != value for key, value in _REPRODUCED.items()) or fitted.dtype is not np.float64:
                return None
            return cls(fitted)
        except AttributeError:
            return None

    def transform(self, texts: list[str]):
        from scipy.sparse import csr_matrix

        n, width = len(texts), len(self.idf)
        get, find = self.vocabulary.get, self._find
        ids = [[i for i in map(get, find(text.lower())) if i is not None] for text in texts]
        lengths = np.fromiter(map(len, ids), np.int64, count=n)
        flat = np.fromiter((i for doc in ids for i in doc), np.int64, count=int(lengths.sum()))
        # One sort gives every row's distinct columns in order and their counts.
        keys, counts = np.unique(np.repeat(np.arange(n, dtype=np.int64), lengths) * width + flat, return_counts=True)
        rows, columns = np.divmod(keys, width)
        indptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        data = counts.astype(np.float64) * self.idf[columns]
        # A CSR product sums each row left to right, as scikit-learn's row normalisation does;
        # times 1.0 is exact, so these are its squared norms to the last bit.
        squares = csr_matrix((data * data, columns, indptr), shape=(n, width)) @ np.ones(width)
        data /= np.sqrt(squares)[rows]
        return csr_matrix((data, columns, indptr), shape=(n, width))


class ProfanityClassifier:
    """alt-profanity-check's vectorizer and model, loaded once; build one per process."""

    def __init__(self, mode: str = DEFAULT_MODE):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.mode = mode
        data = _data_dir()
        vectorizer_path, model_path = os.path.join(data, "vectorizer.joblib"), os.path.join(data, "model.joblib")
        try:
            self._vectorizer = _TfidfWords.of(_load_without_sklearn(vectorizer_path))
            self._linear = _linear_shortcut(_load_without_sklearn(model_path))
        except Exception:  # noqa: BLE001 - a file or joblib release this cannot read: scikit-learn reads it below
            self._vectorizer = self._linear = None
        self._model = None
        if self._vectorizer is not None and self._linear is not None:
            return  # tests/text/toxicity/test_classifier.py checks this path against scikit-learn's, bit for bit
        import joblib  # scikit-learn comes with the unpickling

        self._vectorizer, self._model = joblib.load(vectorizer_path), joblib.load(model_path)
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
