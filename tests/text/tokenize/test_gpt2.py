"""GPT-2's tokenizer made from the openai-whisper ranks gives GPT-2's own ids."""

import pytest

from pipeline.text.tokenize import gpt2
from pipeline.text.tokenize.tokenizer import eod_id
from tests.text.tokenize import gpt2_tokenizer, sample_texts


@pytest.fixture(scope="module")
def t():
    return gpt2_tokenizer()


def test_vocabulary_is_gpt2s(t):
    assert t.get_vocab_size() == 50_257
    assert eod_id(t) == t.token_to_id("<|endoftext|>") == 50_256
    assert len(t.to_str()) < 2_000_000  # 50,000 merges, not more


@pytest.mark.parametrize(
    "text, ids",
    [
        ("Hello world", [15496, 995]),
        (" the", [262]),
        ("Hello, world!", [15496, 11, 995, 0]),
        ("\n", [198]),
        (" ", [220]),
        (".", [13]),
        ("!", [0]),
    ],
)
def test_known_gpt2_ids(t, text, ids):
    assert t.encode(text, add_special_tokens=False).ids == ids
    assert t.decode(ids) == text


def test_end_of_text_is_special_and_not_read_from_document_text(t):
    assert 50_256 not in t.encode("<|endoftext|>", add_special_tokens=False).ids  # as load_tokenizer leaves it
    t.encode_special_tokens = False
    try:
        assert t.encode("<|endoftext|>", add_special_tokens=False).ids == [50_256]
    finally:
        t.encode_special_tokens = True


def test_byte_alphabet_is_byte_levels():
    from tokenizers import pre_tokenizers

    assert sorted(gpt2.bytes_to_unicode().values()) == sorted(pre_tokenizers.ByteLevel.alphabet())


@pytest.mark.parametrize(
    "ranks, pair",
    [
        # "ab" ranks below "bc": BPE of "abc" merges a+b first, so abc = ab + c ...
        ({b"a": 0, b"b": 1, b"c": 2, b"ab": 3, b"bc": 4, b"abc": 5}, (b"ab", b"c")),
        # ... and the other way round when "bc" ranks first.
        ({b"a": 0, b"b": 1, b"c": 2, b"bc": 3, b"ab": 4, b"abc": 5}, (b"a", b"bc")),
    ],
)
def test_merges_come_from_the_rank_order(ranks, pair):
    assert gpt2.merges_from_ranks(ranks)[-1] == pair


def test_equals_tiktoken_on_the_sample(t):
    """tiktoken, run on the same ranks file with GPT-2's pattern, is the reference (skipped where
    tiktoken is not installed; it is not a dependency)."""
    tiktoken = pytest.importorskip("tiktoken")
    try:
        ranks = gpt2.parse_ranks(gpt2.download_ranks())
    except RuntimeError as e:
        pytest.skip(f"cannot download the ranks: {str(e).splitlines()[0]}")
    enc = tiktoken.Encoding("gpt2-whisper", pat_str=gpt2.PATTERN, mergeable_ranks=ranks, special_tokens={gpt2.END_OF_TEXT: gpt2.END_OF_TEXT_ID})
    texts = [text for source in sample_texts().values() for text in source]
    ours = [e.ids for e in t.encode_batch(texts, add_special_tokens=False)]
    assert ours == enc.encode_ordinary_batch(texts)
