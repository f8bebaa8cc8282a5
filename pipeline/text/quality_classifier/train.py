"""Trains a fastText supervised classifier so that the same examples and settings give the same
model bytes: the training file is in a fixed order (the caller's hash order), one thread (fastText's
threads update shared weights without locks, Hogwild-style, in a racy order), a fixed seed, and a
fresh process per training (fit.py says why)."""

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable

from pipeline.text.quality_classifier import ClassifierTrainConfig, fit
from pipeline.text.quality_classifier.model import load_fasttext
from pipeline.text.quality_classifier.preprocess import PREPROCESS

_LABEL_WORD = re.compile(r"(?<!\S)__label__\S*")
# fastText diverges ("Encountered NaN.") on some data at some learning rates (its authors' advice:
# lower the rate). Bad input must not fail the run: the rate is halved and training repeated, each
# try as deterministic as the first.
NAN_RETRIES = 4


def training_line(label: str, text: str, preprocess: str) -> str:
    """'__label__x <text as the model will read it>'. A word of the text that starts with __label__
    would become a second label in training; predict ignores such words, so training drops them."""
    prepared = PREPROCESS[preprocess](text)
    if "__label__" in prepared:
        prepared = _LABEL_WORD.sub(" ", prepared)
    return f"{label} {prepared}\n"


def fasttext_settings(cfg: ClassifierTrainConfig, lr: float) -> dict:
    return {
        "wordNgrams": cfg.word_ngrams,
        "dim": cfg.dim,
        "epoch": cfg.epoch,
        "lr": lr,
        "minCount": cfg.min_count,
        "bucket": cfg.bucket if cfg.word_ngrams > 1 else 0,
        "loss": "softmax",
        "thread": 1,
        "seed": cfg.seed,
        "verbose": 0,
    }


def _fit(data: str, model_path: str, settings: dict) -> bool:
    """True when saved, False when fastText diverged; anything else is a bug: raise."""
    done = subprocess.run([sys.executable, "-P", fit.__file__, data, model_path, json.dumps(settings)], check=False, capture_output=True, text=True)
    if done.returncode == 0:
        return True
    if done.returncode == 3:
        return False
    raise RuntimeError(f"fastText training failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")


def train_fasttext_bytes(examples: Iterable[tuple[str, str]], cfg: ClassifierTrainConfig, preprocess: str) -> tuple[bytes, float]:
    """[(label, text)] in training order -> (the model's .bin bytes, the learning rate it converged
    with); (b"", last rate tried) if every try diverged."""
    with tempfile.TemporaryDirectory(prefix="corpusforge-qc-") as folder:
        data, model_path = os.path.join(folder, "train.txt"), os.path.join(folder, "model.bin")
        with open(data, "wb") as f:  # bytes: no newline translation, no locale encoding
            f.writelines(training_line(label, text, preprocess).encode("utf-8") for label, text in examples)
        lr = cfg.lr
        for _ in range(NAN_RETRIES):
            if _fit(data, model_path, fasttext_settings(cfg, lr)):
                with open(model_path, "rb") as f:
                    return f.read(), lr
            lr /= 2
        return b"", lr * 2


def load_from_bytes(model_bytes: bytes):
    """A fastText model from its .bin bytes (fastText only opens paths: through a temporary file)."""
    with tempfile.TemporaryDirectory(prefix="corpusforge-qc-") as folder:
        path = os.path.join(folder, "model.bin")
        with open(path, "wb") as f:
            f.write(model_bytes)
        return load_fasttext(path)
