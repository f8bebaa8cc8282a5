"""ConnectedComponents (large-star / small-star unrolled in the Beam graph) against a plain
union-find: random graphs, the worst-case path with and without enough rounds, and the candidate
edges MinHash-LSH finds on real documents."""

import gzip
import itertools
import json
import random
import re
from collections import defaultdict
from pathlib import Path

import apache_beam as beam
import numpy as np
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.stages.components import ConnectedComponents
from pipeline.text.dedup import minhash
from pipeline.text.dedup.minhash import MinHashConfig
from tests.local_beam import local_test_pipeline

SAMPLE = Path(__file__).resolve().parents[2] / "pipeline" / "sample" / "data"


def union_find_labels(edges) -> list[tuple[str, str]]:
    """What ConnectedComponents emits: (node, smallest node of its component) for every node
    that has an edge, except each component's smallest node itself (it is the root of the star
    and only ever appears as the label)."""
    parent: dict[str, str] = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)  # the root is always the smallest id
    return sorted((node, find(node)) for node in parent if find(node) != node)


def run_components(edges, max_rounds: int, expected) -> None:
    with local_test_pipeline() as p:
        out = p | beam.Create(edges) | ConnectedComponents(max_rounds)
        assert_that(out, equal_to(expected))


# --- random graphs ------------------------------------------------------------------------------


@st.composite
def graph(draw, first: int):
    """An undirected graph without self-loops on 1..60 nodes n<first>.., mixing random edges with
    a chain and a star over random nodes (edges given in either direction, some repeated)."""
    n = draw(st.integers(1, 60))
    nodes = [f"n{first + i:03d}" for i in draw(st.permutations(range(n)))]  # ids in random positions
    edges = []
    if n >= 2:
        pair = st.tuples(st.sampled_from(nodes), st.sampled_from(nodes)).filter(lambda e: e[0] != e[1])
        edges += draw(st.lists(pair, max_size=60))
        chain = nodes[: draw(st.integers(0, n))]
        edges += list(zip(chain, chain[1:]))
        centre, *leaves = nodes[draw(st.integers(0, n - 1)) :][: draw(st.integers(1, n))]
        edges += [(leaf, centre) if i % 2 else (centre, leaf) for i, leaf in enumerate(leaves)]
    edges = edges[:120]
    if edges:
        edges += draw(st.lists(st.sampled_from(edges), max_size=5))  # duplicates, same or reversed
        edges = [(b, a) if draw(st.booleans()) else (a, b) for a, b in edges]
    return edges


@st.composite
def graphs(draw):
    """1..5 graphs on disjoint node ranges as one edge list. Building and running a pipeline of
    10 unrolled rounds costs ~4 s on the DirectRunner whatever its input, so each example
    checks several graphs at once."""
    return [e for k in range(draw(st.integers(1, 5))) for e in draw(graph(first=60 * k))]


@settings(max_examples=6, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_components_equal_union_find_on_random_graphs(edges):
    assert all(a != b for a, b in edges)
    run_components(edges, MinHashConfig().max_rounds, union_find_labels(edges))


# --- bounded rounds -----------------------------------------------------------------------------

PATH = [f"n{i:03d}" for i in range(200)]
PATH_EDGES = list(zip(PATH, PATH[1:]))  # diameter 199: label propagation would need 199 rounds


def test_path_of_200_converges_within_default_rounds():
    assert MinHashConfig().max_rounds == 10
    expected = union_find_labels(PATH_EDGES)
    assert expected == [(node, "n000") for node in PATH[1:]]
    run_components(PATH_EDGES, 10, expected)


def test_too_few_rounds_fail_the_run_naming_the_setting():
    try:
        run_components(PATH_EDGES, 1, union_find_labels(PATH_EDGES))
    except Exception as exc:  # noqa: BLE001 - the runner may wrap the DoFn's RuntimeError
        message = str(exc)
    else:
        raise AssertionError("a run with too few rounds must fail, not write partial components")
    assert "did not converge" in message and "dedup.minhash.max_rounds" in message


# --- candidate edges from real documents --------------------------------------------------------

_WORD = re.compile(r"\b[a-z]{5,}\b")
_SUBSTITUTES = ["harbour", "granite", "lantern", "orchard", "velvet", "compass"]


def substitute_words(text: str, k: int, seed: int) -> str:
    """`text` with k of its words (five letters or more, spread over the text) replaced."""
    matches = list(_WORD.finditer(text))
    rng = random.Random(seed)
    chosen = sorted(rng.sample(range(len(matches)), k))
    out, last = [], 0
    for i in chosen:
        m = matches[i]
        new = next(w for w in rng.sample(_SUBSTITUTES, len(_SUBSTITUTES)) if w != m.group())
        out += [text[last : m.start()], new]
        last = m.end()
    return "".join(out) + text[last:]


def real_documents() -> dict[str, str]:
    """~290 documents: the first 140 web pages and 120 curated ones of 40 to 3000 words, and a
    copy with 1-3 words changed of every third one long enough (>= 400 words) for such a copy
    to stay well above a 0.8 Jaccard of word 5-grams."""
    docs = {}
    for name, count in (("web", 140), ("curated", 120)):
        with gzip.open(SAMPLE / f"{name}.jsonl.gz", "rt", encoding="utf-8") as f:
            texts = (json.loads(line)["text"] for line in f)
            texts = [t for t in texts if 40 <= len(t.split()) <= 3000][:count]
        docs.update({f"{name}-{i:04d}": t for i, t in enumerate(texts)})
    long_enough = [doc_id for doc_id in sorted(docs) if len(docs[doc_id].split()) >= 400]
    planted = {f"{doc_id}-copy": substitute_words(docs[doc_id], 1 + i % 3, seed=i) for i, doc_id in enumerate(long_enough[::3])}
    assert len(docs) == 260 and len(planted) >= 20
    return {**docs, **planted}


def candidate_edges(docs: dict[str, str], cfg: MinHashConfig) -> tuple[list[tuple[str, str]], np.ndarray]:
    """What DropNearDuplicates computes, done locally: documents sharing a band key are
    candidates; a candidate pair is an edge if its estimated Jaccard reaches the threshold."""
    ids = sorted(docs)
    shingles = minhash.shingle_hashes([docs[i] for i in ids], minhash.Shingling(unit=cfg.shingle, n=cfg.ngram))
    sigs = minhash.signatures(shingles, *minhash.permutations(cfg.num_perm, cfg.seed))
    bands, rows = minhash.lsh_params(cfg.threshold, cfg.num_perm)
    buckets = defaultdict(set)
    for doc, keys in enumerate(minhash.band_keys(sigs, bands, rows).tolist()):
        for band, key in enumerate(keys):
            buckets[band, key].add(doc)
    pairs = {pair for members in buckets.values() for pair in itertools.combinations(sorted(members), 2)}
    edges = [(ids[a], ids[b]) for a, b in sorted(pairs) if minhash.estimated_jaccard(sigs[a], sigs[b]) >= cfg.threshold]
    return edges, sigs


def test_components_of_minhash_candidates_on_real_documents_equal_union_find():
    docs = real_documents()
    edges, _ = candidate_edges(docs, MinHashConfig())
    expected = union_find_labels(edges)
    # The fixture means something: planted copies end up with their originals, bar LSH's false
    # negatives (at Jaccard 0.9 a pair shares none of the 9 bands of 13 rows 7% of the time).
    labels = dict(expected)
    copies = [d for d in docs if d.endswith("-copy")]
    found = [c for c in copies if c in labels and labels[c] == labels.get(c.removesuffix("-copy"), c.removesuffix("-copy"))]
    assert len(found) >= 0.9 * len(copies)
    run_components(edges, MinHashConfig().max_rounds, expected)
