"""Repeated n-gram measures of Gopher's Table A1, vectorised over one document's tokens.

Each n-gram is a 64-bit rolling hash of its token ids, so no n-gram string is ever built; numpy
sorts the hashes to find repeats. Only the positions of n-grams that occur more than once go
through a Python loop (the greedy scan below), and in ordinary prose there are few of them.
Character lengths follow datatrove's definitions so the signals compare with it one to one:
a top n-gram counts its characters with the spaces between tokens, a duplicated n-gram without.
"""

import numpy as np

_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant: the rolling hash's multiplier


def _token_keys(tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(64-bit key per token, cumulative token lengths with a leading 0)."""
    index: dict[str, int] = {}
    ids = np.fromiter((index.setdefault(t, len(index)) for t in tokens), dtype=np.uint64, count=len(tokens))
    # splitmix64 finaliser: spreads consecutive ids over 64 bits so the rolling hash mixes well.
    z = (ids + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    keys = z ^ (z >> np.uint64(31))
    cum = np.zeros(len(tokens) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens)), out=cum[1:])
    return keys, cum


def ngram_repetition(
    tokens: list[str], top_ns: tuple[int, ...], dup_ns: tuple[int, ...], top_min_count: int = 2
) -> tuple[dict[int, int], dict[int, int]]:
    """({n: characters covered by the most frequent n-gram}, {n: characters in repeated n-grams}).

    top: count x length of the most frequent n-gram (ties: the one seen first), length counted
    with single spaces between tokens; 0 when the text has fewer than n tokens or when that
    n-gram occurs fewer than `top_min_count` times (2: only a repeated n-gram is repetition;
    datatrove counts an n-gram seen once too, which is top_min_count=1).
    dup: scanning left to right, an n-gram seen before adds its characters (tokens joined without
    spaces) and the scan jumps past it, so overlapping repeats are not counted twice.
    """
    top: dict[int, int] = {n: 0 for n in top_ns}
    dup: dict[int, int] = {n: 0 for n in dup_ns}
    wanted = max((*top_ns, *dup_ns), default=0)
    if not tokens or wanted == 0:
        return top, dup
    keys, cum = _token_keys(tokens)
    hashes = keys
    with np.errstate(over="ignore"):
        for n in range(1, min(wanted, len(tokens)) + 1):
            if n > 1:
                hashes = hashes[:-1] * _MULT + keys[n - 1 :]
            if n in top:
                top[n] = _top_chars(hashes, cum, n, top_min_count)
            if n in dup:
                dup[n] = _duplicate_chars(hashes, cum, n)
    return top, dup


def _top_chars(hashes: np.ndarray, cum: np.ndarray, n: int, min_count: int) -> int:
    _, first, counts = np.unique(hashes, return_index=True, return_counts=True)
    best = counts.max()
    if best < min_count:
        return 0
    pos = int(first[counts == best].min())
    return int(best) * int(cum[pos + n] - cum[pos] + n - 1)


def _duplicate_chars(hashes: np.ndarray, cum: np.ndarray, n: int) -> int:
    _, inverse, counts = np.unique(hashes, return_inverse=True, return_counts=True)
    repeated = np.flatnonzero(counts[inverse] > 1)
    if repeated.size == 0:
        return 0
    seen: set[int] = set()
    resume_at, chars = 0, 0
    for pos, key in zip(repeated.tolist(), inverse[repeated].tolist()):
        if pos < resume_at:
            continue  # inside an n-gram already counted as a repeat
        if key in seen:
            chars += int(cum[pos + n] - cum[pos])
            resume_at = pos + n
        else:
            seen.add(key)
    return chars
