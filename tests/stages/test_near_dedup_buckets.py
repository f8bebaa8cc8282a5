"""Near-dedup sends a document's sketch only to the buckets it shares with another document, and
to every such bucket: the grouped buckets are exactly those the sketches put two documents in."""

import collections

import apache_beam as beam
import numpy as np
from apache_beam.testing.util import assert_that, equal_to

from pipeline.records import Document
from pipeline.stages import near_dedup
from pipeline.stages.near_dedup import MinHashSketch, SimHashSketch, bucket_hashes
from pipeline.text.dedup.minhash import MinHashConfig
from pipeline.text.dedup.simhash import SimHashConfig
from tests.local_beam import local_test_pipeline

BASE = "the quick brown fox jumps over the lazy dog while the farmer counts his sheep in the morning light " * 3


def _corpus() -> list[Document]:
    docs = [Document(id=f"u{i}", text=f"unrelated document number {i} about topic {i * 7919} " * 4, source="web") for i in range(40)]
    docs.append(Document(id="a", text=BASE, source="web"))
    docs.append(Document(id="b", text=BASE + " and one more", source="web"))  # near copy of a
    docs.append(Document(id="c", text=BASE, source="books"))  # same text, another source
    return docs


def _shared_buckets_directly(sketcher, docs, by_source: bool) -> list:
    sketcher.setup()
    members = collections.defaultdict(list)
    for doc, sketched in zip(docs, sketcher.sketch([d.text for d in docs])):
        scope = doc.source if by_source else ""
        for bucket, key in enumerate(sketched[1]):
            members[(scope, bucket, key)].append((doc.id, sketched[0]))
    return sorted((key, m) for key, ms in members.items() if len(ms) >= 2 for m in ms)


def _shared_buckets_through_beam(sketcher, docs, scope: str) -> list:
    with local_test_pipeline() as p:
        sketched = (
            p
            | beam.Create([docs[i : i + 8] for i in range(0, len(docs), 8)])
            | beam.ParDo(near_dedup._Sketch(sketcher, scope)).with_outputs(near_dedup.SHINGLES, near_dedup.BUCKET_COUNTS, main="sketches")
        )
        buckets = sketched.sketches | near_dedup.SharedBuckets(sketched[near_dedup.BUCKET_COUNTS])
        assert_that(buckets, equal_to(_shared_buckets_directly(sketcher, docs, scope == "source")))


def test_minhash_sends_sketches_to_shared_buckets_only():
    _shared_buckets_through_beam(MinHashSketch(MinHashConfig()), _corpus(), "corpus")


def test_scope_source_keeps_equal_texts_of_two_sources_apart():
    docs = _corpus()
    assert _shared_buckets_directly(MinHashSketch(MinHashConfig()), docs, by_source=False)
    _shared_buckets_through_beam(MinHashSketch(MinHashConfig()), docs, "source")


def test_simhash_sends_fingerprints_to_shared_buckets_only():
    _shared_buckets_through_beam(SimHashSketch(SimHashConfig()), _corpus(), "corpus")


def test_bucket_hashes_tell_scope_bucket_and_key_apart():
    keys = np.array([[5, 5, 7], [5, 6, 7]], dtype=np.uint64)
    same_scope = bucket_hashes(np.array([1, 1], dtype=np.uint64), keys)
    assert same_scope[0, 0] == same_scope[1, 0] and same_scope[0, 2] == same_scope[1, 2]
    assert same_scope[0, 0] != same_scope[0, 1], "equal keys in two bands are two buckets"
    assert same_scope[0, 1] != same_scope[1, 1]
    other_scope = bucket_hashes(np.array([1, 2], dtype=np.uint64), keys)
    assert other_scope[0, 0] != other_scope[1, 0]
