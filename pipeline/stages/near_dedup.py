"""Near-duplicate removal: sketches -> buckets -> verified edges -> components -> drops.

Two sketches share the same machinery. MinHash-LSH: a signature per document, one bucket per
LSH band (pairs verified by estimated Jaccard). SimHash: a 64-bit fingerprint, one bucket per
block (pairs verified by Hamming distance). Only (id, sketch) pairs are shuffled; the
connected components of the verified pairs run across workers (stages.components), and every
document but the smallest id of its component is dropped, the representative named in the detail.

Most buckets hold one document, and a bucket of one compares nothing. So the buckets are counted
first, as hashes in arrays (pipeline.stages.value_counts), and a document sends its (id, sketch)
only to the buckets it shares with another document. A MinHash signature is 512 bytes and goes
to each of ~14 bands: sent to every band, that was ~7 KB per document, the largest shuffle of the
default run, held whole by the runner while it grouped (its peak fell from 1.8 to 1.2 GiB at 100 MB
of input). The set of shared buckets reaches every worker as a side input, 8 bytes per bucket
that holds two or more documents.
"""

import functools
import hashlib

import apache_beam as beam
import numpy as np
from apache_beam.metrics import Metrics

from pipeline import progress
from pipeline.config import DedupConfig
from pipeline.records import Document
from pipeline.stages import registry, value_counts
from pipeline.stages.components import ConnectedComponents
from pipeline.stages.dedup import DedupReason, DropByIds
from pipeline.stages.route import AFFECTED, SplitByIds
from pipeline.text.dedup import minhash, simhash
from pipeline.text.dedup.minhash import MinHashConfig
from pipeline.text.dedup.simhash import SimHashConfig

MINHASH_STAGE = registry.MINHASH_STAGE  # the registry declares every stage id (pipeline.stages.registry)
SIMHASH_STAGE = registry.SIMHASH_STAGE


def _shingle_set(shingles: np.ndarray) -> bytes:
    """The distinct shingles folded to 32 bits: half the bytes to shuffle; two documents'
    ~1,000 shingles collide with probability ~1e-4, far below what moves a Jaccard."""
    folded = ((shingles ^ (shingles >> np.uint64(32))) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    return np.unique(folded).tobytes()


class MinHashSketch:
    """Signatures (uint32 x num_perm) bucketed by LSH band; similar = estimated Jaccard >= threshold."""

    stage_id = MINHASH_STAGE

    def __init__(self, cfg: MinHashConfig):
        self.cfg = cfg

    def setup(self) -> None:
        cfg = self.cfg
        self._shingling = minhash.Shingling(unit=cfg.shingle, n=cfg.ngram)
        self._a, self._b = minhash.permutations(cfg.num_perm, cfg.seed)
        self._bands, self._rows = minhash.lsh_params(cfg.threshold, cfg.num_perm, cfg.false_positive_weight, cfg.false_negative_weight)

    def sketch(self, texts: list[str]):
        """-> [(sketch bytes, bucket keys, shingle set bytes or None) or None for a text with
        nothing to compare]; the shingle set only when pairs are verified by exact Jaccard."""
        shingles = minhash.shingle_hashes(texts, self._shingling)
        sigs = minhash.signatures(shingles, self._a, self._b)
        keys = minhash.band_keys(sigs, self._bands, self._rows)
        exact = self.cfg.verify_exact
        return [(sig.tobytes(), k.tolist(), _shingle_set(sh) if exact else None) if len(sh) else None for sig, k, sh in zip(sigs, keys, shingles)]

    def estimate_threshold(self) -> float:
        """The estimate a pair must reach. With exact verification after it, three standard
        deviations of the estimate below the threshold, so a pair at the threshold is not lost
        to the estimate's noise (sigma = sqrt(J(1-J)/num_perm), 0.035 at J=0.8 with 128)."""
        t = self.cfg.threshold
        return t - 3 * (t * (1 - t) / self.cfg.num_perm) ** 0.5 if self.cfg.verify_exact else t

    def similar_to_earlier(self, sketches: list[bytes], i: int) -> np.ndarray:
        sigs = np.stack([np.frombuffer(s, dtype=np.uint32) for s in sketches[: i + 1]])
        if not self.cfg.verify:
            return np.ones(i, dtype=bool)
        return (sigs[:i] == sigs[i]).mean(axis=1) >= self.estimate_threshold()


class SimHashSketch:
    """64-bit fingerprints bucketed by block; similar = Hamming distance <= max_distance."""

    stage_id = SIMHASH_STAGE

    def __init__(self, cfg: SimHashConfig):
        self.cfg = cfg

    def setup(self) -> None:
        self._shingling = minhash.Shingling(unit=self.cfg.shingle, n=self.cfg.ngram)

    def sketch(self, texts: list[str]):
        shingles = minhash.shingle_hashes(texts, self._shingling, distinct=True)
        fps = simhash.simhash_fingerprints(shingles)
        keys = simhash.block_keys(fps, self.cfg.max_distance)
        return [(fp.tobytes(), k.tolist(), None) if len(sh) else None for fp, k, sh in zip(fps, keys, shingles)]

    def similar_to_earlier(self, sketches: list[bytes], i: int) -> np.ndarray:
        fps = np.frombuffer(b"".join(sketches[: i + 1]), dtype=np.uint64)
        return simhash.hamming(fps[:i], fps[i]) <= self.cfg.max_distance


SHINGLES = "shingles"
BUCKET_COUNTS = "bucket_counts"
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@functools.lru_cache(maxsize=4096)
def _scope_hash(scope: str) -> np.uint64:
    return np.uint64(int.from_bytes(hashlib.blake2b(scope.encode("utf-8"), digest_size=8).digest(), "little"))


def bucket_hashes(scope_hashes: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """(documents x buckets) uint64 keys, and each document's scope hash -> one uint64 per
    (scope, bucket index, key), splitmix64-mixed. Two buckets that collide only cost a document
    a trip to a bucket where it is alone; grouping is on the bucket itself."""
    return minhash.mix64(keys ^ (np.arange(keys.shape[1], dtype=np.uint64) * _GOLDEN) ^ scope_hashes.reshape(-1, 1))


class _Sketch(beam.DoFn):
    """A batch of documents -> (scope, id, sketch, bucket keys) per document; on BUCKET_COUNTS, per
    shard of the bucket hashes, the batch's hashes and how many of its documents are in each; and
    (id, shingle set) on the SHINGLES output when pairs are verified exactly."""

    def __init__(self, sketcher, scope: str):
        self._sketcher = sketcher
        self._scope = scope
        self._progress = progress.Meter(f"{sketcher.stage_id} sketching")

    def setup(self):
        self._sketcher.setup()
        self._sketched = Metrics.counter(self._sketcher.stage_id, "sketched")

    def process(self, batch: list[Document]):
        self._sketched.inc(len(batch))
        scopes, rows = [], []
        for doc, sketched in zip(batch, self._sketcher.sketch([d.text for d in batch])):
            if sketched is None:
                continue  # nothing to compare (a document of punctuation only)
            sketch, keys, shingle_set = sketched
            scope = doc.source if self._scope == "source" else ""
            yield scope, doc.id, sketch, keys
            scopes.append(_scope_hash(scope))
            rows.append(keys)
            if shingle_set is not None:
                yield beam.pvalue.TaggedOutput(SHINGLES, (doc.id, shingle_set))
        self._progress.advance(batch)
        if rows:
            # A document's buckets are distinct (the bucket index is hashed in), so a count is
            # the number of documents in the bucket.
            hashes = bucket_hashes(np.array(scopes, dtype=np.uint64), np.array(rows, dtype=np.uint64)).ravel()
            for part in value_counts.by_shard(*np.unique(hashes, return_counts=True)):
                yield beam.pvalue.TaggedOutput(BUCKET_COUNTS, part)


class _ToSharedBuckets(beam.DoFn):
    """(scope, id, sketch, keys) -> ((scope, bucket index, key), (id, sketch)) for each of the
    document's buckets that another document is in."""

    def process(self, sketched, shared):
        if shared is not None:  # None: no bucket holds two documents
            scope, doc_id, sketch, keys = sketched
            hashes = bucket_hashes(np.array([_scope_hash(scope)], dtype=np.uint64), np.array([keys], dtype=np.uint64)).ravel()
            for bucket in np.flatnonzero(value_counts.holding(hashes, shared)).tolist():
                yield (scope, bucket, keys[bucket]), (doc_id, sketch)


class SharedBuckets(beam.PTransform):
    """_Sketch's (scope, id, sketch, keys) -> ((scope, bucket index, key), (id, sketch)) for the
    buckets that hold two or more documents: its BUCKET_COUNTS output, summed per shard, gives the
    set of shared bucket hashes, a side input against which each document's buckets are looked up."""

    def __init__(self, bucket_counts):
        super().__init__()
        self._bucket_counts = bucket_counts

    def expand(self, sketches):
        shared = (
            self._bucket_counts
            | "GroupCountsByShard" >> beam.GroupByKey()
            | "Shared" >> beam.Map(lambda group: value_counts.held_more_than(group[1], 1))
            | "SharedSet" >> beam.CombineGlobally(value_counts.SortedValues()).without_defaults()
        )
        return sketches | "ToSharedBuckets" >> beam.ParDo(_ToSharedBuckets(), beam.pvalue.AsSingleton(shared, default_value=None))


def _bucket_edges(sketcher):
    """A bucket's members -> edges that connect every group of similar members (transitively: A~B
    and B~C put A, B and C in one group even when A and C differ more). A new member is first
    compared with each group's first member; only groups where that fails are compared member
    by member. So a bucket of 10,000 copies costs 10,000 comparisons, not 50 million, and at
    most (members - 1) edges leave a bucket."""

    def edges(bucket):
        _, members = bucket
        members = sorted(set(members))  # a bucket of one yields nothing: the loop below is empty
        ids = [m[0] for m in members]
        sketches = [m[1] for m in members]
        groups: list[list[int]] = [[0]]  # member indexes; a group's first member is its root
        for i in range(1, len(ids)):
            roots = [g[0] for g in groups]
            similar_root = sketcher.similar_to_earlier([sketches[r] for r in roots] + [sketches[i]], len(roots))
            joined = []  # (group, the member of it that i is similar to)
            for g, group in enumerate(groups):
                if similar_root[g]:
                    joined.append((g, group[0]))
                elif len(group) > 1:
                    hits = np.flatnonzero(sketcher.similar_to_earlier([sketches[m] for m in group[1:]] + [sketches[i]], len(group) - 1))
                    if hits.size:
                        joined.append((g, group[1 + int(hits[0])]))
            for _, member in joined:
                yield ids[member], ids[i]
            joined = [g for g, _ in joined]
            merged = [m for g in joined for m in groups[g]] + [i]
            groups = [group for g, group in enumerate(groups) if g not in joined] + [sorted(merged)]
            groups.sort(key=lambda group: group[0])

    return edges


def _jaccard(a: bytes, b: bytes) -> float:
    sa, sb = np.frombuffer(a, dtype=np.uint32), np.frombuffer(b, dtype=np.uint32)
    common = np.intersect1d(sa, sb, assume_unique=True).size
    return common / (sa.size + sb.size - common)


class VerifyExactJaccard(beam.PTransform):
    """Candidate edges -> those whose shingle sets' exact Jaccard reaches the threshold (as NeMo
    Curator verifies). Each end's shingle set (hashes, not text) meets its edges in a join by id;
    the sets of documents on no edge stay out of the joins."""

    def __init__(self, shingles, threshold: float):
        super().__init__()
        self._shingles, self._threshold = shingles, threshold

    def expand(self, edges):
        threshold = self._threshold
        # Only the documents on an edge send their shingle sets into the joins.
        ends = edges | "Ends" >> beam.FlatMap(lambda edge: edge)
        shingles = (self._shingles | "OnEdges" >> SplitByIds(ends))[AFFECTED]
        first_end = (
            {"set": shingles, "edge": edges}
            | "JoinFirst" >> beam.CoGroupByKey()
            | "ToSecond" >> beam.FlatMap(lambda kv: [(b, (kv[0], s)) for s in kv[1]["set"] for b in kv[1]["edge"]])
        )
        return (
            {"set": shingles, "edge": first_end}
            | "JoinSecond" >> beam.CoGroupByKey()
            | "Keep" >> beam.FlatMap(lambda kv: [(a, kv[0]) for s in kv[1]["set"] for a, sa in kv[1]["edge"] if _jaccard(sa, s) >= threshold])
        )


class DropNearDuplicates(beam.PTransform):
    def __init__(self, sketcher, cfg: DedupConfig, batch_size: int, max_rounds: int, keep_text: bool):
        super().__init__(label=f"Dedup[{sketcher.stage_id}]")
        self._sketcher, self._cfg = sketcher, cfg
        self._batch_size, self._max_rounds, self._keep_text = batch_size, max_rounds, keep_text

    def expand(self, docs):
        sketched = (
            docs
            | "Batch" >> beam.BatchElements(min_batch_size=self._batch_size, max_batch_size=self._batch_size)
            | "Sketch" >> beam.ParDo(_Sketch(self._sketcher, self._cfg.scope)).with_outputs(SHINGLES, BUCKET_COUNTS, main="sketches")
        )
        buckets = sketched.sketches | "SharedBuckets" >> SharedBuckets(sketched[BUCKET_COUNTS])
        edges = buckets | "GroupByBucket" >> beam.GroupByKey() | "VerifiedEdges" >> beam.FlatMap(_bucket_edges(self._sketcher))
        if getattr(self._sketcher.cfg, "verify_exact", False):
            edges = edges | "ExactJaccard" >> VerifyExactJaccard(sketched[SHINGLES], self._sketcher.cfg.threshold)
        drops = edges | "Components" >> ConnectedComponents(self._max_rounds) | "NotRepresentative" >> beam.Filter(lambda nc: nc[0] != nc[1])
        return docs | DropByIds(self._sketcher.stage_id, DedupReason.NEAR_DUPLICATE, drops, self._keep_text)


def drop_minhash_duplicates(cfg: DedupConfig, keep_text: bool) -> DropNearDuplicates:
    mh = cfg.minhash
    return DropNearDuplicates(MinHashSketch(mh), cfg, mh.batch_size, mh.max_rounds, keep_text)


def drop_simhash_duplicates(cfg: DedupConfig, keep_text: bool) -> DropNearDuplicates:
    sh = cfg.simhash
    return DropNearDuplicates(SimHashSketch(sh), cfg, sh.batch_size, sh.max_rounds, keep_text)
