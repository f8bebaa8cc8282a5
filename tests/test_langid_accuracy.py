"""Our LanguageIdentifier must be at least as accurate as calling fastText directly.

"Directly" is the least any caller does: newlines replaced (fastText rejects them), one
`predict(list, k=1)` call. Run with `pytest -s` to see the per-language tables.
"""

import collections
import glob
import gzip
import json
import os
import re

import fasttext
import pytest

from pipeline.text.langid import _HAN, _KANA, LanguageIdentifier, default_model_path, space_han

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELDOUT = os.path.join(ROOT, "tests", "data", "langid_heldout.jsonl.gz")
SAMPLE = os.path.join(ROOT, "pipeline", "sample", "data", "*.jsonl.gz")
# Sample documents from Chinese-language Debian packages; their url starts "deb:<package>/".
CHINESE_URL = re.compile(r"deb:(fortunes-zh|manpages-zh|debian-reference-zh-cn)/")
MIN_LANGUAGES, MIN_PER_LANGUAGE = 10, 50


def _jsonl(path: str) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="module")
def raw_model():
    fasttext.FastText.eprint = lambda *args, **kwargs: None  # load-time deprecation print
    return fasttext.load_model(default_model_path())


@pytest.fixture(scope="module")
def ours():
    return LanguageIdentifier(default_model_path())  # default settings, as the pipeline uses it


@pytest.fixture(scope="module")
def heldout() -> list[dict]:
    if not os.path.exists(HELDOUT):
        pytest.skip(f"{HELDOUT} not built yet")
    return _jsonl(HELDOUT)


@pytest.fixture(scope="module")
def chinese_docs() -> list[str]:
    texts = [d["text"] for path in sorted(glob.glob(SAMPLE)) for d in _jsonl(path) if CHINESE_URL.match(d.get("url", ""))]
    if not texts:
        pytest.skip("the sample holds no Chinese documents")
    return texts


def raw_predict(model, texts: list[str]) -> list[str]:
    labels, _ = model.predict([t.replace("\n", " ") for t in texts], k=1)
    return [label[0].removeprefix("__label__") for label in labels]


def ours_predict(model: LanguageIdentifier, texts: list[str]) -> list[str]:
    return [lang for lang, _ in model.predict(texts)]


# ---------------------------------------------------------------- held-out accuracy


def test_heldout_covers_enough_languages(heldout):
    counts = collections.Counter(r["lang"] for r in heldout)
    big = sorted(lang for lang, n in counts.items() if n >= MIN_PER_LANGUAGE)
    assert len(big) >= MIN_LANGUAGES, f"only {big} have >= {MIN_PER_LANGUAGE} texts: {dict(counts)}"


def test_ours_is_at_least_as_accurate_as_raw_fasttext(heldout, raw_model, ours):
    texts, gold = [r["text"] for r in heldout], [r["lang"] for r in heldout]
    raw, mine = raw_predict(raw_model, texts), ours_predict(ours, texts)
    total, raw_ok, our_ok = collections.Counter(gold), collections.Counter(), collections.Counter()
    for g, r, o in zip(gold, raw, mine):
        raw_ok[g] += r == g
        our_ok[g] += o == g

    print("\nlang     n  raw fastText   ours")
    for lang in sorted(total):
        print(f"{lang:<5}{total[lang]:>5}  {raw_ok[lang] / total[lang]:>12.1%} {our_ok[lang] / total[lang]:>6.1%}")
    n, r, o = len(gold), sum(raw_ok.values()), sum(our_ok.values())
    print(f"{'all':<5}{n:>5}  {r / n:>12.1%} {o / n:>6.1%}")

    assert o >= r
    losses = {lang: (raw_ok[lang], our_ok[lang]) for lang in total if our_ok[lang] < raw_ok[lang]}
    assert not losses, f"ours is less accurate than raw fastText on (raw, ours correct): {losses}"


def test_japanese_stays_japanese(heldout, raw_model, ours):
    ja = [r["text"] for r in heldout if r["lang"] == "ja"]
    if not ja:
        pytest.skip("no Japanese held-out texts")
    raw, mine = raw_predict(raw_model, ja), ours_predict(ours, ja)
    # Han spacing must not touch Japanese: every text fastText reads as ja stays ja.
    lost = [t[:60] for t, r, o in zip(ja, raw, mine) if r == "ja" and o != "ja"]
    assert not lost, lost
    assert mine.count("ja") >= raw.count("ja")


# ---------------------------------------------------------------- Chinese read as Japanese


def test_sample_chinese_documents_are_never_japanese(chinese_docs, raw_model, ours):
    raw, mine = raw_predict(raw_model, chinese_docs), ours_predict(ours, chinese_docs)
    print(f"\n{len(chinese_docs)} Chinese sample docs: raw fastText says ja on {raw.count('ja')}, ours on {mine.count('ja')}")
    assert mine.count("ja") == 0, [t[:60] for t, o in zip(chinese_docs, mine) if o == "ja"]


def test_short_han_lines_read_as_chinese_far_more_often(chinese_docs, raw_model, ours):
    # Single unsegmented lines of 4-30 Han characters (no kana), where lid.176 is weakest.
    lines = sorted(
        {
            line.strip()
            for doc in chinese_docs
            for line in doc.split("\n")
            if 4 <= len(_HAN.findall(line)) <= 30 and not _KANA.search(line) and len(_HAN.findall(line)) * 2 >= len(line.strip())
        }
    )
    assert len(lines) >= 100
    raw, mine = raw_predict(raw_model, lines), ours_predict(ours, lines)
    print(f"\n{len(lines)} short Han lines: ja raw {raw.count('ja')} ours {mine.count('ja')}; zh raw {raw.count('zh')} ours {mine.count('zh')}")
    # Every line raw fastText reads as zh stays zh, and "ja" answers drop at least four-fold.
    assert all(o == "zh" for r, o in zip(raw, mine) if r == "zh")
    assert mine.count("ja") * 4 <= raw.count("ja")


# ---------------------------------------------------------------- space_han


def test_space_han_spaces_han_only_text():
    assert space_han("我们去公园") == " 我  们  去  公  园 "
    assert space_han("版本 2.73") == " 版  本  2.73"


def test_space_han_leaves_text_with_kana_unchanged():
    text = "日本語の文章です"
    assert space_han(text) is text


def test_space_han_leaves_text_without_han_unchanged():
    for text in ("plain English text", "Русский текст", "ひらがなだけ", ""):
        assert space_han(text) is text


def test_space_han_equals_spacing_every_han_character(chinese_docs):
    # space_han's fast path (split + join) must give exactly what a plain substitution gives.
    for doc in chinese_docs:
        text = doc.replace("\n", " ")
        if space_han(text) is not text:
            assert space_han(text) == _HAN.sub(r" \g<0> ", text)
