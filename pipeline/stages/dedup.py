"""Deduplication stages: exact (normalised-text hash) and near (MinHash-LSH + components).

Only ids, hashes and signatures are shuffled to decide what to drop; the documents themselves
meet the drop list once, in a join by id (one document per key, never a group of texts). In
every group of duplicates the document with the smallest id is kept, the others are rejected
with the kept id in the detail, so the choice does not depend on order, worker or runner.
"""

import hashlib

import apache_beam as beam
import numpy as np
from apache_beam.metrics import Metrics

from pipeline.config import DedupConfig, ExactDedupConfig, MinHashConfig
from pipeline.records import Document, Reason, Rejection
from pipeline.stages.base import FilterResult
from pipeline.stages.components import ConnectedComponents
from pipeline.text.dedup import minhash

EXACT_STAGE = "dedup.exact.v1"
MINHASH_STAGE = "dedup.minhash.v1"
_REJECTED = "rejected"


class DedupReason(Reason):
    EXACT_DUPLICATE = "exact_duplicate"
    NEAR_DUPLICATE = "near_duplicate"


def _scope(doc: Document, cfg: DedupConfig) -> str:
    return doc.source if cfg.scope == "source" else ""


def exact_key(text: str, cfg: ExactDedupConfig) -> str:
    norm = minhash.normalize(text, lowercase=cfg.lowercase, strip_punctuation=cfg.strip_punctuation)
    return hashlib.blake2b(norm.encode("utf-8"), digest_size=16).hexdigest()


class _Join(beam.DoFn):
    """Per id: the document and, if it is to be dropped, why; one document per key."""

    def __init__(self, stage_id: str, reason: DedupReason, keep_text: bool):
        self._stage_id = stage_id
        self._reason = reason
        self._keep_text = keep_text

    def setup(self):
        self._kept = Metrics.counter(self._stage_id, "kept")
        self._dropped = Metrics.counter(self._stage_id, self._reason.value)

    def process(self, joined):
        _, grouped = joined
        keepers = sorted(grouped["drop"])
        for doc in grouped["doc"]:
            if keepers:
                self._dropped.inc()
                detail = f"duplicate of {keepers[0]}"
                yield beam.pvalue.TaggedOutput(_REJECTED, Rejection.of(doc, self._stage_id, self._reason, detail, self._keep_text))
            else:
                self._kept.inc()
                yield doc


class DropByIds(beam.PTransform):
    """docs + (id, kept id) drops -> FilterResult: the documents whose id is not in the drops."""

    def __init__(self, stage_id: str, reason: DedupReason, drops, keep_text: bool):
        super().__init__()
        self._stage_id, self._reason, self._drops, self._keep_text = stage_id, reason, drops, keep_text

    def expand(self, docs):
        keyed = docs | "ById" >> beam.Map(lambda d: (d.id, d))
        out = (
            {"doc": keyed, "drop": self._drops}
            | "Join" >> beam.CoGroupByKey()
            | "Split" >> beam.ParDo(_Join(self._stage_id, self._reason, self._keep_text)).with_outputs(_REJECTED, main="kept")
        )
        empty = docs.pipeline | "NoSkips" >> beam.Create([])
        return FilterResult(kept=out.kept, rejected=out[_REJECTED], skipped=empty)


def _all_but_smallest(group):
    """(key, ids) -> (id, smallest id) for every id but the smallest."""
    _, ids = group
    ids = sorted(set(ids))
    for other in ids[1:]:
        yield other, ids[0]


class DropExactDuplicates(beam.PTransform):
    def __init__(self, cfg: DedupConfig, keep_text: bool):
        super().__init__(label=f"Dedup[{EXACT_STAGE}]")
        self._cfg = cfg
        self._keep_text = keep_text

    def expand(self, docs):
        cfg = self._cfg
        drops = (
            docs
            | "Key" >> beam.Map(lambda d: ((_scope(d, cfg), exact_key(d.text, cfg.exact)), d.id))
            | "GroupByHash" >> beam.GroupByKey()
            | "Losers" >> beam.FlatMap(_all_but_smallest)
        )
        return docs | DropByIds(EXACT_STAGE, DedupReason.EXACT_DUPLICATE, drops, self._keep_text)


class _Signatures(beam.DoFn):
    """A batch of documents -> ((scope, band, band key), (id, signature bytes)) per band."""

    def __init__(self, cfg: MinHashConfig, scope: str):
        self._cfg = cfg
        self._scope = scope

    def setup(self):
        cfg = self._cfg
        self._shingling = minhash.Shingling(unit=cfg.shingle, n=cfg.ngram)
        self._a, self._b = minhash.permutations(cfg.num_perm, cfg.seed)
        self._bands, self._rows = minhash.lsh_params(cfg.threshold, cfg.num_perm, cfg.false_positive_weight, cfg.false_negative_weight)
        self._words = minhash.WordHashes()  # kept across batches: each distinct word hashed once
        self._docs = Metrics.counter(MINHASH_STAGE, "signatures")

    def process(self, batch: list[Document]):
        shingles = minhash.shingle_hashes([d.text for d in batch], self._shingling, cache=self._words)
        sigs = minhash.signatures(shingles, self._a, self._b)
        keys = minhash.band_keys(sigs, self._bands, self._rows)
        self._docs.inc(len(batch))
        for doc, sig, doc_keys, doc_shingles in zip(batch, sigs, keys, shingles):
            if len(doc_shingles) == 0:
                continue  # nothing to compare (a document of punctuation only)
            scope = doc.source if self._scope == "source" else ""
            payload = (doc.id, sig.tobytes())
            for band, key in enumerate(doc_keys.tolist()):
                yield (scope, band, key), payload


def _bucket_edges(threshold: float, verify: bool):
    """A band bucket's members -> edges between members whose signatures agree enough. Local
    union-find keeps at most (members - 1) edges per bucket: enough to connect the same sets."""

    def edges(bucket):
        _, members = bucket
        members = sorted(set(members))
        if len(members) < 2:
            return
        ids = [m[0] for m in members]
        sigs = np.stack([np.frombuffer(m[1], dtype=np.uint32) for m in members])
        parent = list(range(len(ids)))

        def find(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for i in range(1, len(ids)):
            similar = (sigs[:i] == sigs[i]).mean(axis=1) >= threshold if verify else np.ones(i, dtype=bool)
            for j in np.flatnonzero(similar).tolist():
                ri, rj = find(i), find(j)
                if ri != rj:
                    parent[max(ri, rj)] = min(ri, rj)
                    yield ids[j], ids[i]

    return edges


class DropNearDuplicates(beam.PTransform):
    def __init__(self, cfg: DedupConfig, keep_text: bool):
        super().__init__(label=f"Dedup[{MINHASH_STAGE}]")
        self._cfg = cfg
        self._keep_text = keep_text

    def expand(self, docs):
        mh = self._cfg.minhash
        drops = (
            docs
            | "Batch" >> beam.BatchElements(min_batch_size=mh.batch_size, max_batch_size=mh.batch_size)
            | "Signatures" >> beam.ParDo(_Signatures(mh, self._cfg.scope))
            | "GroupByBand" >> beam.GroupByKey()
            | "CandidateEdges" >> beam.FlatMap(_bucket_edges(mh.threshold, mh.verify))
            | "Components" >> ConnectedComponents(mh.max_rounds)
            | "NotRepresentative" >> beam.Filter(lambda nc: nc[0] != nc[1])
        )
        return docs | DropByIds(MINHASH_STAGE, DedupReason.NEAR_DUPLICATE, drops, self._keep_text)


DEDUP_STAGES = {"exact": (EXACT_STAGE, DropExactDuplicates), "minhash": (MINHASH_STAGE, DropNearDuplicates)}
