"""The exact answer substring dedup is checked against, and the corpus it is checked on (tests and
bench/bench_substring.py only: pydivsufsort is a dev dependency, imported when called).

reference_removed: one suffix array (libdivsufsort) over the word ids of the whole corpus, as Lee
et al. (2022) build it over tokens. Documents are concatenated in id order, each followed by a
separator id of its own, so no common prefix crosses a document and the position in the
concatenation orders occurrences as (id, position) does. Suffixes sharing their first k words are
one run of the suffix array with LCP >= k between neighbours; in each run every suffix but the
smallest position is a later copy, and its k words are removed. No hashing, no winnowing: an
independent computation of substring.py's definition.
"""

import numpy as np

from pipeline.text.dedup.substring import removed_ranges, words


def reference_removed(docs: list[tuple[str, str]], k: int) -> dict[str, np.ndarray]:
    """(id, text) -> {id: bool mask of removed words}, for every document."""
    docs = sorted(docs)
    vocab: dict[str, int] = {}
    seqs = [[vocab.setdefault(w, len(vocab)) for w in words(t)] for _, t in docs]
    seq, owner, offsets = [], [], []
    for i, s in enumerate(seqs):
        offsets.append(len(seq))
        seq += s
        owner += [i] * len(s)
        seq.append(-1 - i)  # unique separator
        owner.append(-1)
    if not seq:
        return {}
    import pydivsufsort

    arr = np.array(seq, dtype=np.int64) + len(docs)  # separators 0..n-1, words >= n: all non-negative
    sa = pydivsufsort.divsufsort(arr.astype(np.uint64))
    lcp = pydivsufsort.kasai(arr.astype(np.uint64), sa)  # lcp[i]: suffixes sa[i] and sa[i + 1]
    removed = np.zeros(len(arr) + 1, dtype=np.int64)
    joins = lcp[:-1] >= k  # sa[i] and sa[i+1] share their first k words
    # runs of joined neighbours: run id increments where a join breaks
    run = np.concatenate(([0], np.cumsum(~joins)))
    in_run = np.concatenate((joins, [False])) | np.concatenate(([False], joins))
    first_of_run = np.full(run[-1] + 1, np.iinfo(np.int64).max)
    np.minimum.at(first_of_run, run, sa.astype(np.int64))
    later = sa[in_run & (sa != first_of_run[run])].astype(np.int64)
    np.add.at(removed, later, 1)
    np.add.at(removed, later + k, -1)
    covered = np.cumsum(removed)[: len(arr)] > 0
    return {doc_id: covered[offsets[i] : offsets[i] + len(seqs[i])] for i, (doc_id, _) in enumerate(docs)}


def char_f1(docs: list[tuple[str, str]], got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> tuple[float, float, float]:
    """(precision, recall, F1) of removed characters; masks of removed words per id (absent: none)."""
    tp = fp = fn = 0
    for doc_id, text in docs:
        g, w = got.get(doc_id), want.get(doc_id)
        gs = np.zeros(len(text), dtype=bool)
        ws = np.zeros(len(text), dtype=bool)
        for mask, into in ((g, gs), (w, ws)):
            if mask is not None and mask.any():
                for a, b in removed_ranges(text, mask):
                    into[a:b] = True
        tp += int((gs & ws).sum())
        fp += int((gs & ~ws).sum())
        fn += int((~gs & ws).sum())
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def planted_corpus(
    texts: list[str], plants: int, k: int, seed: int, disjoint: bool = False
) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """Documents doc-00000.. from `texts`, with `plants` spans of k..3k words copied from one
    document into another at a word boundary. -> (docs, [(from id, into id, span text)]).
    `disjoint`: no document is in two plants (each planted span then has exactly two copies
    unless the text repeats it already). A pure function of the arguments."""
    from pipeline.text.dedup.substring import word_starts_ends

    rng = np.random.Generator(np.random.PCG64(seed))
    docs = {f"doc-{i:05d}": t for i, t in enumerate(texts)}
    ids = sorted(docs)
    planted = []
    long_ids = [i for i in ids if len(words(docs[i])) >= 3 * k + 1]
    for _ in range(plants):
        src, dst = rng.choice(long_ids, size=2, replace=False)
        if disjoint:
            long_ids = [i for i in long_ids if i not in (src, dst)]
        starts, ends = word_starts_ends(docs[src])
        length = int(rng.integers(k, 3 * k + 1))
        a = int(rng.integers(0, len(starts) - length + 1))
        span = docs[src][starts[a] : ends[a + length - 1]]
        d_starts, _ = word_starts_ends(docs[dst])
        at = int(d_starts[int(rng.integers(0, len(d_starts)))])
        docs[dst] = docs[dst][:at] + span + " " + docs[dst][at:]
        planted.append((str(src), str(dst), span))
    return sorted(docs.items()), planted
