"""Word and window hashes go through in passes of bounded size: the hashes must not depend on
the pass size, and the power tables a process keeps must not grow with the batch."""

import importlib.util
import random

import numpy as np

from pipeline.text.dedup import minhash, substring


def _words(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyzéßж中語"  # 1- to 3-byte UTF-8 characters
    return ["".join(rng.choice(letters) for _ in range(rng.randint(1, 14))) for _ in range(count)]


def _fresh_module():
    """A private copy of the module, with tables as a new worker has them."""
    spec = importlib.util.spec_from_file_location("minhash_tables_copy", minhash.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hashes_do_not_depend_on_the_pass_size(monkeypatch):
    words = _words(20_000, seed=1)
    words[5_000] = "x" * 5_000  # longer than the small pass below: it goes through alone
    one_pass = minhash.unit_hashes(words)  # the default pass holds this whole batch
    monkeypatch.setattr(minhash, "PASS_ENTRIES", 64)
    assert np.array_equal(minhash.unit_hashes(words), one_pass)
    # A word's hash is its own: the same as hashed alone.
    assert minhash.unit_hashes(["x" * 5_000])[0] == one_pass[5_000]


def test_tables_stay_bounded_on_a_large_batch():
    module = _fresh_module()
    module.PASS_ENTRIES = 4_096
    words = _words(60_000, seed=2)  # about 0.6 MB joined: many passes
    hashes = module.unit_hashes(words)
    assert len(module._POWERS[0]) <= 2 * (module.PASS_ENTRIES + 1)
    assert np.array_equal(hashes, minhash.unit_hashes(words))


def test_substring_hashes_do_not_depend_on_the_pass_size(monkeypatch):
    texts = [" ".join(_words(3_000, seed=3 + i)) for i in range(4)]
    words, offsets = substring.batch_word_hashes(texts)
    windows = substring.window_hashes(words, 13)
    monkeypatch.setattr(substring, "PASS_ENTRIES", 50)
    monkeypatch.setattr(minhash, "PASS_ENTRIES", 50)
    small_words, small_offsets = substring.batch_word_hashes(texts)
    assert np.array_equal(small_words, words) and np.array_equal(small_offsets, offsets)
    assert np.array_equal(substring.window_hashes(words, 13), windows)
