"""Repeated n-gram measures of Gopher's Table A1, vectorised over a batch of documents.

Each n-gram is a 64-bit rolling hash of its token keys, so no n-gram string is ever built, and
a whole batch of documents goes through one numpy sort per n (the fixed cost of a numpy call is
paid per batch, not per document). A document's hashes are salted with its position in the
batch so equal n-grams of different documents never meet. Only positions of n-grams that occur
more than once in their document go through a Python loop (the greedy scan for duplicates), and
in ordinary prose there are few of them.

Character lengths follow datatrove's definitions so the signals compare with it one to one: a
top n-gram counts its characters with the spaces between tokens, a duplicated n-gram without.
"""

from itertools import chain

import numpy as np

_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant: the rolling hash's multiplier


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads small integers over 64 bits."""
    z = (x + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _token_ids(tokens: list[str]) -> list[int]:
    """An id per token, equal for equal strings: the position where the string first occurs."""
    index: dict[str, int] = {}
    return list(map(index.setdefault, tokens, range(len(tokens))))


def ngram_repetition_batch(
    docs_tokens: list[list[str]], top_ns: tuple[int, ...], dup_ns: tuple[int, ...], top_min_count: int = 2
) -> list[tuple[dict[int, int], dict[int, int]]]:
    """Per document: ({n: characters of its most frequent n-gram}, {n: characters in repeated n-grams}).

    top: count x length of the most frequent n-gram (ties: the one seen first), length counted
    with single spaces between tokens; 0 when the text has fewer than n tokens or when that
    n-gram occurs fewer than `top_min_count` times (2: only a repeated n-gram is repetition;
    datatrove counts an n-gram seen once too, which is top_min_count=1).
    dup: scanning left to right, an n-gram seen before adds its characters (tokens joined without
    spaces) and the scan jumps past it, so overlapping repeats are not counted twice.
    """
    results = [({n: 0 for n in top_ns}, {n: 0 for n in dup_ns}) for _ in docs_tokens]
    sizes = np.fromiter(map(len, docs_tokens), dtype=np.int64, count=len(docs_tokens))
    total = int(sizes.sum())
    wanted = max((*top_ns, *dup_ns), default=0)
    if total == 0 or wanted == 0:
        return results

    ids = np.fromiter(chain.from_iterable(map(_token_ids, docs_tokens)), dtype=np.uint64, count=total)
    doc_of = np.repeat(np.arange(len(docs_tokens)), sizes)  # document index of each position
    starts = np.zeros(len(docs_tokens) + 1, dtype=np.int64)
    np.cumsum(sizes, out=starts[1:])
    room = starts[1:][doc_of] - np.arange(total)  # tokens from each position to its document's end
    keys = _mix(ids) ^ _mix(doc_of.astype(np.uint64) + np.uint64(1 << 40))  # salt by document
    cum = np.zeros(total + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, chain.from_iterable(docs_tokens)), dtype=np.int64, count=total), out=cum[1:])

    # Work only where it can matter: an n-gram that repeats has a repeated (n-1)-gram prefix, so
    # after each n only the positions of repeated n-grams go on to n+1. In prose that leaves a
    # few percent of positions from n=3 on. (Not while a top n-gram seen once still counts.)
    prune_from = max(top_ns) if top_min_count < 2 and top_ns else 0
    positions = np.arange(total)
    hashes = keys
    with np.errstate(over="ignore"):
        for n in range(1, wanted + 1):
            inside = room[positions] >= n  # windows inside one document
            positions, hashes = positions[inside], hashes[inside]
            if n > 1:
                hashes = hashes * _MULT + keys[positions + (n - 1)]
            if positions.size == 0:
                break
            _, first, inverse, counts = np.unique(hashes, return_index=True, return_inverse=True, return_counts=True)
            if n in top_ns:
                for d, chars in _top_chars(first, counts, positions, doc_of, cum, n, top_min_count):
                    results[d][0][n] = chars
            if n in dup_ns:
                for d, chars in _duplicate_chars(inverse, counts, positions, doc_of, cum, n):
                    results[d][1][n] = chars
            if n >= prune_from:
                repeated = counts[inverse] > 1
                positions, hashes = positions[repeated], hashes[repeated]
    return results


def _top_chars(first, counts, positions, doc_of, cum, n, min_count):
    first_pos = positions[first]
    docs = doc_of[first_pos]
    # Per document: the largest count, ties to the earliest first occurrence.
    order = np.lexsort((first_pos, -counts, docs))
    docs_sorted = docs[order]
    leaders = order[np.flatnonzero(np.r_[True, docs_sorted[1:] != docs_sorted[:-1]])]
    for g in leaders.tolist():
        count = int(counts[g])
        if count >= min_count:
            p = int(first_pos[g])
            yield int(docs[g]), count * int(cum[p + n] - cum[p] + n - 1)


def _duplicate_chars(inverse, counts, positions, doc_of, cum, n):
    repeated = np.flatnonzero(counts[inverse] > 1)
    if repeated.size == 0:
        return
    where = positions[repeated]
    current, seen, resume_at, chars = -1, set(), 0, 0
    for pos, key, doc in zip(where.tolist(), inverse[repeated].tolist(), doc_of[where].tolist()):
        if doc != current:
            if current >= 0 and chars:
                yield current, chars
            current, seen, resume_at, chars = doc, set(), 0, 0
        if pos < resume_at:
            continue  # inside an n-gram already counted as a repeat
        if key in seen:
            chars += int(cum[pos + n] - cum[pos])
            resume_at = pos + n
        else:
            seen.add(key)
    if chars:
        yield current, chars


def ngram_repetition(
    tokens: list[str], top_ns: tuple[int, ...], dup_ns: tuple[int, ...], top_min_count: int = 2
) -> tuple[dict[int, int], dict[int, int]]:
    """ngram_repetition_batch for one document."""
    return ngram_repetition_batch([tokens], top_ns, dup_ns, top_min_count)[0]
