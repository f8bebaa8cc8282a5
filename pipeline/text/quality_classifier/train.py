"""Trains a fastText supervised classifier so that the same examples and settings give the same
model bytes: the training file is in a fixed order (the caller's hash order), one thread (fastText's
threads race on the shared weights, Hogwild-style) and a fixed seed."""

import os
import re
import tempfile
from typing import Iterable

from pipeline.config import ClassifierTrainConfig
from pipeline.text.quality_classifier.model import load_fasttext
from pipeline.text.quality_classifier.preprocess import PREPROCESS

_LABEL_WORD = re.compile(r"(?<!\S)__label__\S*")


def training_line(label: str, text: str, preprocess: str) -> str:
    """'__label__x <text as the model will read it>'. A word of the text that starts with __label__
    would become a second label in training; predict ignores such words, so training drops them."""
    prepared = PREPROCESS[preprocess](text)
    if "__label__" in prepared:
        prepared = _LABEL_WORD.sub(" ", prepared)
    return f"{label} {prepared}\n"


def train_fasttext_bytes(examples: Iterable[tuple[str, str]], cfg: ClassifierTrainConfig, preprocess: str) -> bytes:
    """[(label, text)] in training order -> the saved model's bytes (fastText's .bin format)."""
    import fasttext

    with tempfile.TemporaryDirectory(prefix="corpusforge-qc-") as folder:
        data, model_path = os.path.join(folder, "train.txt"), os.path.join(folder, "model.bin")
        with open(data, "wb") as f:  # bytes: no newline translation, no locale encoding
            for label, text in examples:
                f.write(training_line(label, text, preprocess).encode("utf-8"))
        fasttext.FastText.eprint = lambda *args, **kwargs: None
        model = fasttext.train_supervised(
            input=data,
            wordNgrams=cfg.word_ngrams,
            dim=cfg.dim,
            epoch=cfg.epoch,
            lr=cfg.lr,
            minCount=cfg.min_count,
            bucket=cfg.bucket if cfg.word_ngrams > 1 else 0,
            loss="softmax",
            thread=1,
            seed=cfg.seed,
            verbose=0,
        )
        model.save_model(model_path)
        with open(model_path, "rb") as f:
            return f.read()


def load_from_bytes(model_bytes: bytes):
    """A fastText model from its .bin bytes (fastText only opens paths: through a temporary file)."""
    with tempfile.TemporaryDirectory(prefix="corpusforge-qc-") as folder:
        path = os.path.join(folder, "model.bin")
        with open(path, "wb") as f:
            f.write(model_bytes)
        return load_fasttext(path)
