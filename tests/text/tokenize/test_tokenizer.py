"""Training determinism, end-of-document ids, round trips, and cutting long documents without
changing their ids, on GPT-2's tokenizer and a 32k one trained on the sample."""

import hashlib
import os
import random
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tokenizers import Regex, Tokenizer, models, pre_tokenizers

from pipeline.text.tokenize import tokenizer as tok
from pipeline.text.tokenize.tokenizer import (
    END_OF_DOCUMENT,
    encode_documents,
    eod_id,
    load_tokenizer,
    per_document,
    split_points,
    token_list_array,
    train_bpe,
)
from pipeline.text.words import count_words, is_word, tokenize
from schemas.tokens import token_shard_schema
from tests.text.tokenize import ROOT, gpt2_tokenizer, sample_texts, trained_json, training_texts

# Llama-3's split regex (its tokenizer.json: Split(Isolated) then ByteLevel without regex).
LLAMA3_PATTERN = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
# Pieces of text that stress the split regex: whitespace runs of every kind, contractions,
# digits, punctuation runs, combining marks, CJK, emoji (some with modifiers), zero-width space,
# a literal end-of-document marker.
FRAGMENTS = [
    " ",
    "  ",
    "   ",
    "\n",
    "\n\n",
    "\t",
    "\r\n",
    "\r",
    "\u00a0",
    "\u3000",
    "\u2028",
    "\x0b",
    "\x1c",
    "a",
    "Z",
    "word",
    "The",
    "ü",
    "e\u0301",
    "'s",
    "'ll",
    "'S",
    "'",
    '"',
    "1",
    "42",
    "123456",
    ".",
    ",",
    "!?",
    "...",
    "(",
    ")",
    "-",
    "_",
    "#",
    "你",
    "好",
    "日本語",
    "한국어",
    "ру",
    "مرحبا",
    "😀",
    "👍🏽",
    "👨‍👩‍👧",
    "\u200b",
    END_OF_DOCUMENT,
    "<|",
    "|>",
]
SPACES = [f for f in FRAGMENTS if f.isspace()]
# Texts as runs of "words" (fragments, random characters) and separators, spaces most often, so
# that most examples hold cut candidates.
texts_strategy = st.lists(
    st.tuples(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), st.sampled_from([" ", " ", " ", "\n", "", *SPACES])),
    min_size=3,
    max_size=200,
).map(lambda parts: "".join(word + sep for word, sep in parts))
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def gpt2():
    return gpt2_tokenizer()


@pytest.fixture(scope="module")
def trained():
    return load_tokenizer(trained_json())


@pytest.fixture(scope="module")
def llama3_style(trained):
    """The trained vocabulary behind Llama-3's split regex: a tokenizer for which a cut before a
    newline after punctuation is NOT safe, so the per-cut check has something to refuse."""
    t = load_tokenizer(trained.to_str())
    t.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated"), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
    )
    return t


def _ids(t: Tokenizer, text: str) -> list[int]:
    return t.encode(text, add_special_tokens=False).ids


def _sha(t: Tokenizer) -> str:
    return hashlib.sha256(t.to_str().encode()).hexdigest()


# --- training ---------------------------------------------------------------------------------


def test_training_is_deterministic_across_runs_orders_threads_and_processes():
    texts = training_texts(100_000)
    first = _sha(train_bpe(texts, 3000, [END_OF_DOCUMENT]))
    assert _sha(train_bpe(texts, 3000, [END_OF_DOCUMENT])) == first
    shuffled = texts[:]
    random.Random(0).shuffle(shuffled)
    assert _sha(train_bpe(iter(shuffled), 3000, [END_OF_DOCUMENT])) == first  # word counts do not depend on order
    code = (
        "import hashlib; from tests.text.tokenize import training_texts; from pipeline.text.tokenize.tokenizer import train_bpe;"
        "print(hashlib.sha256(train_bpe(training_texts(100_000), 3000, ['<|endoftext|>']).to_str().encode()).hexdigest())"
    )
    for env in ({"PYTHONHASHSEED": "12345", "RAYON_NUM_THREADS": "1"}, {"PYTHONHASHSEED": "7", "RAYON_NUM_THREADS": "8"}):
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == first, env


def test_trained_vocabulary_special_tokens_first_then_every_byte(trained):
    assert trained.get_vocab_size() == 32_000
    assert eod_id(trained) == 0
    vocab = trained.get_vocab()
    assert all(symbol in vocab for symbol in pre_tokenizers.ByteLevel.alphabet())
    flat, _ = encode_documents(trained, ["fits in uint16"], 0)
    assert flat.dtype == np.uint16


def test_train_rejects_a_vocabulary_smaller_than_the_bytes():
    with pytest.raises(ValueError, match="byte symbols"):
        train_bpe(["abc"], 200, [END_OF_DOCUMENT])


def test_eod_id_names_a_missing_token(trained):
    with pytest.raises(ValueError, match="'<eos>'"):
        eod_id(trained, "<eos>")


def test_load_from_path_or_json_text(trained, tmp_path):
    path = tmp_path / "tokenizer.json"
    trained.save(str(path))
    assert load_tokenizer(str(path)).to_str() == load_tokenizer(trained.to_str()).to_str() == trained.to_str()
    assert load_tokenizer(str(path)).encode_special_tokens


# --- encoding ---------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_chars", [tok.CHUNK_CHARS, 500])  # 500: most documents cut, many times
@pytest.mark.parametrize("name", ["gpt2", "trained"])
def test_encode_documents_equals_encode_plus_eod_on_the_sample(name, chunk_chars, request):
    t = request.getfixturevalue(name)
    eod = eod_id(t)
    texts = [text for source in sample_texts().values() for text in source[:200] if len(text) < 10_000]
    texts += ["", " ", "\n", END_OF_DOCUMENT]
    flat, offsets = encode_documents(t, texts, eod, chunk_chars=chunk_chars)
    assert offsets.dtype == np.int32 and len(offsets) == len(texts) + 1
    docs = per_document(flat, offsets)
    expected = [e.ids for e in t.encode_batch(texts, add_special_tokens=False)]
    assert [d.tolist() for d in docs] == [ids + [eod] for ids in expected]
    assert int((flat == eod).sum()) == len(texts)  # a literal marker in the text is not the end-of-document id


@pytest.mark.parametrize("name", ["gpt2", "trained"])
def test_decoding_gives_back_the_text_cjk_and_emoji_included(name, request):
    t = request.getfixturevalue(name)
    texts = [text for source in sample_texts().values() for text in source[::25]]
    texts += ["中文文本，没有空格。日本語のテキスト", "emoji 😀👍🏽👨‍👩‍👧 and e\u0301 and \u200b", "  leading and trailing  \n"]
    assert any("\u4e00" <= c <= "\u9fff" for text in texts[:-3] for c in text)  # the sample's own CJK
    flat, offsets = encode_documents(t, texts, eod_id(t))
    assert t.decode_batch([d[:-1].tolist() for d in per_document(flat, offsets)], skip_special_tokens=False) == texts


@given(texts_strategy)
@FAST
def test_decoding_gives_back_random_text(trained, text):
    t = trained
    assert t.decode(_ids(t, text), skip_special_tokens=False) == text


def test_token_list_array_is_the_shard_column_without_copying(trained):
    flat, offsets = encode_documents(trained, ["one document", "", "and another"], 0)
    column = token_list_array(flat, offsets)
    assert column.type == token_shard_schema(trained.get_vocab_size()).field("tokens").type
    assert column.values.buffers()[1].address == flat.ctypes.data
    assert column.to_pylist() == [d.tolist() for d in per_document(flat, offsets)]


def test_count_words_counts_cjk_characters_and_skips_punctuation():
    assert count_words("Hello, world! 你好") == 4
    assert count_words("") == 0


_MIXED = st.lists(st.sampled_from(list("ab_1-/.:,!'() \n\tーあア漢é\u0301ß٣") + ["https://", "http://x.y/", "e.g.", "--"]), max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(_MIXED)
def test_count_words_is_the_word_tokens_of_tokenize(text):
    assert count_words(text) == sum(1 for token in tokenize(text) if is_word(token))


# --- cutting long documents -------------------------------------------------------------------


@given(texts_strategy)
@FAST
def test_every_candidate_cut_is_safe_for_gpt2s_regex(gpt2, trained, text):
    """The proof in split_points' docstring, checked: for GPT-2's regex (GPT-2 itself and our
    trained tokenizer) the rule alone never changes the ids, and the per-cut check agrees."""
    for t in (gpt2, trained):
        whole = _ids(t, text)
        for match in tok._CANDIDATE.finditer(text):
            cut = match.start()
            assert _ids(t, text[:cut]) + _ids(t, text[cut:]) == whole
            assert tok._cut_is_safe(t, text, cut)


@given(texts_strategy, st.integers(min_value=1, max_value=20))
@FAST
def test_cut_documents_encode_like_whole_ones(gpt2, trained, text, chunk_chars):
    for t in (gpt2, trained):
        flat, offsets = encode_documents(t, [text, "x", text], eod_id(t), chunk_chars=chunk_chars)
        whole = _ids(t, text) + [eod_id(t)]
        assert [d.tolist() for d in per_document(flat, offsets)] == [whole, _ids(t, "x") + [eod_id(t)], whole]


@given(texts_strategy, st.integers(min_value=1, max_value=20))
@FAST
def test_cut_documents_encode_like_whole_ones_with_llama3s_regex(llama3_style, text, chunk_chars):
    t = llama3_style
    flat, _ = encode_documents(t, [text], 0, chunk_chars=chunk_chars)
    assert flat.tolist() == _ids(t, text) + [0]


def test_the_check_refuses_a_newline_after_punctuation_under_llama3s_regex(llama3_style, gpt2):
    text = "The end.\nNext line starts here."
    cut = text.index("\n")
    assert tok._CANDIDATE.match(text, cut)  # a candidate by the rule ...
    assert not tok._cut_is_safe(llama3_style, text, cut)  # ... that Llama-3's ".\n" pre-token forbids
    assert tok._cut_is_safe(gpt2, text, cut)
    assert cut not in split_points(llama3_style, text, chunk_chars=5)


def test_no_pre_tokenizer_no_cuts():
    assert split_points(Tokenizer(models.BPE()), "word " * 100, chunk_chars=10) == []


@pytest.mark.parametrize("name", ["gpt2", "trained"])
def test_long_real_documents_are_cut_and_keep_their_ids(name, request):
    t = request.getfixturevalue(name)
    longest = sorted((text for source in sample_texts().values() for text in source), key=len)[-3:]
    joined = "\n\n".join(longest)  # ~1 MB: code, papers
    cuts = split_points(t, joined)
    assert len(cuts) > len(joined) // (2 * tok.CHUNK_CHARS)
    flat, offsets = encode_documents(t, [joined, *longest], eod_id(t))
    expected = [e.ids + [eod_id(t)] for e in t.encode_batch([joined, *longest], add_special_tokens=False)]
    assert [d.tolist() for d in per_document(flat, offsets)] == expected
