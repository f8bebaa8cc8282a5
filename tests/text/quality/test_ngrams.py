"""The vectorised n-gram measures (pipeline.text.quality.ngrams) against a plain Python reference
of the same definitions, on hand-computed cases and many random token lists."""

import random
from collections import Counter

import pytest

from pipeline.text.quality.ngrams import ngram_repetition, ngram_repetition_batch

TOP_NS = (1, 2, 3, 4)
DUP_NS = (2, 3, 5, 6, 7, 8, 9, 10)


def reference_top(tokens: list[str], n: int, min_count: int) -> int:
    """count x (token characters + n-1 spaces) of the most frequent n-gram, ties to the first
    seen; 0 with fewer than n tokens or when that n-gram occurs fewer than min_count times."""
    if len(tokens) < n:
        return 0
    counts = Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))  # first-seen order
    best = max(counts.values())
    if best < min_count:
        return 0
    gram = next(g for g, c in counts.items() if c == best)
    return best * (sum(map(len, gram)) + n - 1)


def reference_dup(tokens: list[str], n: int) -> int:
    """Greedy scan from the left: an n-gram seen before adds its token characters and the scan
    skips its n positions; any other n-gram is remembered and the scan moves on by one."""
    seen: set[tuple[str, ...]] = set()
    chars = i = 0
    while i + n <= len(tokens):
        gram = tuple(tokens[i : i + n])
        if gram in seen:
            chars += sum(map(len, gram))
            i += n
        else:
            seen.add(gram)
            i += 1
    return chars


def reference(tokens, top_ns=TOP_NS, dup_ns=DUP_NS, min_count=2):
    return {n: reference_top(tokens, n, min_count) for n in top_ns}, {n: reference_dup(tokens, n) for n in dup_ns}


def random_tokens(rng: random.Random) -> list[str]:
    """Token lists from a small vocabulary (many repeats, overlapping ones too) or a larger one,
    with some phrases copied whole, as repeated boilerplate would be."""
    words = ["a", "of", "the", "and", "river", "bridge", ",", ".", "Kuala", "Lumpur", "restoration", "1887", "…"]
    vocab = rng.sample(words, rng.randint(1, len(words)))
    tokens = [rng.choice(vocab) for _ in range(rng.randint(0, 60))]
    for _ in range(rng.randint(0, 3)):
        if tokens:
            start = rng.randrange(len(tokens))
            phrase = tokens[start : start + rng.randint(1, 12)]
            at = rng.randint(0, len(tokens))
            tokens[at:at] = phrase
    return tokens


def test_hand_computed_top_and_duplicates():
    tokens = "the cat sat on the cat mat".split()
    top, dup = ngram_repetition(tokens, (2, 3), (2,))
    assert top == {2: 2 * len("the cat"), 3: 0}  # no 3-gram repeats
    assert dup == {2: len("thecat")}
    top, _ = ngram_repetition(tokens, (3,), (), top_min_count=1)
    assert top == {3: len("the cat sat")}  # all seen once: the first one


def test_overlapping_repeats_are_counted_once():
    tokens = "a b a b a b".split()
    top, dup = ngram_repetition(tokens, (2,), (2, 3))
    assert top == {2: 3 * len("a b")}
    # n=2: (a b) new, (b a) new, (a b) seen: +2, skip to 4; (a b) seen: +2.
    # n=3: (a b a) new, (b a b) new, (a b a) seen: +3, skip to 5: no 3-gram left.
    assert dup == {2: 4, 3: 3}


def test_top_ngram_ties_go_to_the_first_seen():
    tokens = "red fox jumps red fox jumps".split()
    top, _ = ngram_repetition(tokens, (2,), ())
    assert top == {2: 2 * len("red fox")}  # not "fox jumps", which is as frequent and longer


def test_fewer_tokens_than_n_gives_zero():
    assert ngram_repetition(["only", "three", "tokens"], (4,), (5,), top_min_count=1) == ({4: 0}, {5: 0})
    assert ngram_repetition([], (2,), (5,)) == ({2: 0}, {5: 0})


@pytest.mark.parametrize("min_count", [1, 2])
def test_matches_the_reference_on_random_token_lists(min_count):
    for seed in range(400):
        tokens = random_tokens(random.Random(seed))
        assert ngram_repetition(tokens, TOP_NS, DUP_NS, min_count) == reference(tokens, min_count=min_count), f"seed {seed}: {tokens}"


def test_a_batch_gives_each_document_its_own_result():
    # Documents share tokens and phrases: nothing may be counted across a document boundary.
    rng = random.Random(12345)
    docs = [random_tokens(rng) for _ in range(200)] + [[], ["the"], ["the", "river"] * 3]
    rng.shuffle(docs)
    got = ngram_repetition_batch(docs, TOP_NS, DUP_NS)
    assert got == [reference(tokens) for tokens in docs]


def test_a_repeated_document_is_not_a_repeat_within_a_batch():
    doc = "the bridge over the river was rebuilt after the flood".split()
    assert ngram_repetition_batch([doc, doc, doc], (2,), (5,)) == [({2: 0}, {5: 0})] * 3
