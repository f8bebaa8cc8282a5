"""The tokenizer's training sample: packed where it is drawn, read back one record at a time, and
trained on in hash order exactly as the whole sample sorted would be."""

import heapq
import random

import pyarrow as pa
import pytest

from pipeline.config import TokenizerConfig
from pipeline.stages.tokenize import _RECORD, _train, pack_sample, unpack_sample
from pipeline.text.tokenize.tokenizer import train_bpe


def _records(n: int, rng: random.Random) -> list[tuple[int, str]]:
    alphabet = "abc dé\n—漢字😀"
    records = [(rng.randrange(2**64), "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))) for _ in range(n)]
    return records + [(0, ""), (2**64 - 1, "last"), (7, "tie b"), (7, "tie a")]


def test_packs_read_back_sorted_and_merged_equal_the_whole_sample_sorted():
    rng = random.Random(5)
    records = _records(500, rng)
    cuts = sorted(rng.sample(range(1, len(records)), 4))
    parts = [records[a:b] for a, b in zip([0, *cuts], [*cuts, len(records)])]
    packs = [pack_sample(part) for part in parts]
    assert [list(unpack_sample(p)) for p in packs] == [sorted(part) for part in parts]
    assert list(heapq.merge(*map(unpack_sample, packs))) == sorted(records)
    assert list(unpack_sample(pack_sample([]))) == []


def test_training_on_packs_gives_the_tokenizer_of_the_sorted_texts():
    rng = random.Random(6)
    words = ["the", "tokenizer", "learns", "merges", "from", "counts", "données", "字词"]
    records = [(rng.randrange(2**64), " ".join(rng.choice(words) for _ in range(rng.randint(5, 60)))) for _ in range(300)]
    cfg = TokenizerConfig(vocab_size=300)
    packs = [pack_sample(records[:100]), pack_sample(records[100:])]
    expected = train_bpe([text for _, text in sorted(records)], cfg.vocab_size, cfg.special_tokens, cfg.min_frequency).to_str()
    assert _train(packs, cfg) == expected


def _zstd(data: bytes) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as out:
        out.write(data)
    return sink.getvalue().to_pybytes()


def test_a_truncated_pack_is_an_error_not_a_shorter_sample():
    text = "a text long enough to be cut in the middle of its record"
    whole = _RECORD.pack(1, len(text)) + text.encode("utf-8")
    assert list(unpack_sample(_zstd(whole))) == [(1, text)]
    with pytest.raises(ValueError, match="ends inside a record"):
        list(unpack_sample(_zstd(whole[:-5])))
