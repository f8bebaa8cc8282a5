"""Exact-substring deduplication through Beam (the algorithm: pipeline.text.dedup.substring).
Texts cross one shuffle, and only those of the documents that get cut:

    docs -(batches)-> per shard of the value range (its top 10 bits): the batch's distinct
         fingerprints and the places that select each  -GroupByKey(shard), sum per value->
         candidates (held at >= 2 places) -CombineGlobally-> the candidate set: a sorted uint64
         array, a side input
    docs -(batches; side input: the candidate set)-> per candidate value v of a document, one
         record (v, (id, packed runs of starts, packed k-gram hashes)) of its k-grams whose window
         minimum is v; the document itself: kept as it is if it has no record (nothing of it can
         be cut), else passed on packed (pack_document)
    records -GroupByKey(v)-> later copies (id, packed runs of starts)  [past group_limit: by k-gram]
    packed candidate documents -SplitByIds(ids of the later copies, a side input; stages.route)->
         those no cut names: unpacked and kept, in the same fused step
         the others -CoGroupByKey(id) with their cuts-> cut, kept or rejected

Guarantee (pipeline.text.dedup.substring): every span of >= min_tokens words that occurs more than
once in the stage's input (within a source when scope is source) is kept at its first occurrence,
the smallest (id, word position), and cut from every other; a span seen once is never touched; cuts
fall on word boundaries. Exact up to 64-bit hash collisions; the result does not depend on the
runner, the worker count or the batching. Limits: words are compared, not bytes (punctuation and
spacing between words are ignored); a document shorter than min_tokens words holds no span; the
first copy's document may itself be rejected afterwards (too much cut), and then that text
survives nowhere.

Memory. Side inputs are held whole by every worker, and each is gathered by one worker first
(CombineGlobally): the candidate set costs 8 bytes per candidate fingerprint (about 2/(w+1) per
word of repeated text, w = min_tokens - fingerprint_words + 1: ~0.6 byte per repeated word at the
defaults; 83 KB on the 13 MB benchmark corpus), the cut ids 8 bytes per document cut (12 KB
there). Both grow with the corpus's repeated text, not with all of it. A shard's count step holds
12 bytes per (fingerprint, batch) pair of its 1/1,024 of the values: ~0.001 byte per word of the
corpus (~15 MB a shard at 100 GB of text; pipeline.stages.value_counts). Every other step holds one
batch, one document or one key's values: a fingerprint's k-gram records are counted first (Beam's
grouped values re-iterate) and, past group_limit, regrouped by k-gram hash.

Every shuffled element is a tuple of ints and bytes (FastPrimitivesCoder's cheap cases); a
document crosses its one shuffle packed (pickle + zstd level 1, ~0.43 of the text's bytes on the
benchmark corpus). bench/bench_substring.py replays every shuffle with these functions and counts
its bytes, and the side inputs' bytes apart. Not a shuffle, and not counted there: step 2 reads
the documents after a side input computed from all of them, so a runner cannot fuse it with
step 1's read and keeps the documents between the two (the DirectRunner in memory, Dataflow as a
materialized collection); the candidate documents are kept again, packed, until the cut ids are
known.
"""

import dataclasses
import pickle
import struct
import typing
from typing import NamedTuple

import apache_beam as beam
import numpy as np
import zstandard
from apache_beam.metrics import Metrics

from pipeline.config import DedupConfig
from pipeline.records import Document, Rejection
from pipeline.stages import registry, value_counts
from pipeline.stages.dedup import DedupReason, scope_of
from pipeline.stages.route import AFFECTED, SplitByIds
from pipeline.text.dedup import substring
from pipeline.text.quality.rules import score_key

SUBSTRING_STAGE = registry.SUBSTRING_STAGE  # the registry declares every stage id (pipeline.stages.registry)
CHARS_REMOVED = score_key(SUBSTRING_STAGE, "chars_removed")
SPANS_REMOVED = score_key(SUBSTRING_STAGE, "spans_removed")
REMOVED_FRACTION = score_key(SUBSTRING_STAGE, "removed_fraction")
_REJECTED = "rejected"
_CANDIDATE = "candidate"
_KGRAMS = "kgrams"
_SCORED = "scored"
_SKIPPED = "skipped"
# Declared output types: Beam would otherwise infer each step's from its bytecode when the pipeline
# is built (~10 ms a step); Any keeps the coders what they were (FastPrimitivesCoder, pickle).
_ANY = typing.Any


class SubstringResult(NamedTuple):
    """FilterResult's fields, and `scored`: every document the stage cut, kept or rejected, with
    its scores (for the report's histograms, which count a score over every document it was
    computed for)."""

    kept: beam.PCollection
    rejected: beam.PCollection
    skipped: beam.PCollection
    scored: beam.PCollection


_OVERFLOW = "overflow"
_ZSTD_LEVEL = 1  # 0.43 of the text at ~150 MB/s a core; level 3 saves 2% more at two thirds the speed


_FIELDS = tuple(f.name for f in dataclasses.fields(Document))


def pack_document(doc: Document, compressor: zstandard.ZstdCompressor | None = None) -> bytes:
    """A Document as the joins carry it: the pickle of its field values (a tuple, maps as plain
    dicts: no class or field names per document), zstd-compressed; deterministic bytes."""
    values = tuple(dict(v) if isinstance(v, dict) else v for v in (getattr(doc, name) for name in _FIELDS))
    compressor = compressor or zstandard.ZstdCompressor(level=_ZSTD_LEVEL)
    return compressor.compress(pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL))


def unpack_document(data: bytes, decompressor: zstandard.ZstdDecompressor | None = None) -> Document:
    values = pickle.loads((decompressor or zstandard.ZstdDecompressor()).decompress(data))
    return Document(**dict(zip(_FIELDS, values)))


def _key(scope: str, h: int):
    """The shuffle key of a hash: the bare int64 when dedup is global (no empty string to carry
    with each of ~0.07 fingerprints per word), (source, hash) when scope is source."""
    return (scope, h) if scope else h


def fingerprint_counts(batch, cfg: DedupConfig):
    """A batch of documents -> (shard key, (distinct fingerprint values, places in the batch that
    select each)) per shard of the value range (pipeline.stages.value_counts): step 1's shuffled
    elements, each value once per batch, a few hundred elements a batch."""
    sub = cfg.substring
    found = substring.batch_fingerprints([d.text for d in batch], sub.min_tokens, sub.fingerprint_words)
    by_scope: dict[str, list] = {}
    for doc, pair in zip(batch, found):
        by_scope.setdefault(scope_of(doc, cfg), []).append(pair)
    for scope, pairs in by_scope.items():
        for shard, part in value_counts.by_shard(*substring.count_fingerprints(pairs)):
            yield _key(scope, shard), part


def _candidates(group):
    """(shard key, [(values, counts) per batch]) -> that shard's values held at two or more places
    (uint64 bytes). With scope source, the set holds the values of every source: a value repeated
    only in another source sends a document's k-grams to a group of its own scope, where they find
    no copy."""
    yield value_counts.held_more_than(group[1], 1)


def _records(doc, found, cfg: DedupConfig):
    scope = scope_of(doc, cfg)
    for v, starts, hashes in found:
        key = _key(scope, int(np.uint64(v).view(np.int64)))
        yield key, (doc.id, pack_runs(starts), _pack(hashes.view(np.int64), _HASH))


def kgram_records(batch, candidates: np.ndarray, cfg: DedupConfig):
    """A batch of documents and the candidate set -> (fingerprint key, (id, packed runs of starts,
    packed k-gram hashes)) per candidate value of each document: what step 2 shuffles."""
    sub = cfg.substring
    found = substring.batch_candidate_kgrams([d.text for d in batch], candidates, sub.min_tokens, sub.fingerprint_words)
    for doc, records in zip(batch, found):
        yield from _records(doc, records, cfg)


# Word positions travel as 4-byte ints (a document is far below 2^31 words), hashes as 8 bytes.
_POS, _HASH = "<i4", "<i8"
_RUN = struct.Struct("<ii")  # one (first, one past the last) pair of pack_runs


def _pack(values: np.ndarray, dtype: str = _POS) -> bytes:
    return values.astype(dtype).tobytes()


def _unpack(data: bytes, dtype: str = _POS) -> np.ndarray:
    return np.frombuffer(data, dtype=dtype).astype(np.int64)


def pack_runs(starts: np.ndarray) -> bytes:
    """Sorted distinct word positions as (first, one past the last) int32 pairs of their runs of
    consecutive values: the k-grams of one window minimum, and a document's later copies, are
    mostly one run."""
    starts = np.asarray(starts, dtype=np.int64)
    if not len(starts):
        return b""
    first, last = int(starts[0]), int(starts[-1])
    if last - first + 1 == len(starts):  # one run, the common case: no array work
        return _RUN.pack(first, last + 1)
    breaks = np.flatnonzero(np.diff(starts) != 1) + 1
    lo = starts[np.concatenate(([0], breaks))]
    hi = starts[np.concatenate((breaks - 1, [len(starts) - 1]))] + 1
    return np.stack((lo, hi), axis=1).astype(_POS).tobytes()


def unpack_runs(data: bytes) -> np.ndarray:
    """pack_runs' input back: int64 positions in order."""
    if len(data) == _RUN.size:
        lo, hi = _RUN.unpack(data)
        return np.arange(lo, hi, dtype=np.int64)
    pairs = np.frombuffer(data, dtype=_POS).reshape(-1, 2).astype(np.int64)
    if not len(pairs):
        return np.zeros(0, dtype=np.int64)
    lengths = pairs[:, 1] - pairs[:, 0]
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    return np.repeat(pairs[:, 0] - offsets, lengths) + np.arange(int(lengths.sum()), dtype=np.int64)


class _Unpacked:
    """Packed records (id, starts bytes, hashes bytes) seen as (id, starts, hashes), re-iterable
    as the grouped values under it are."""

    def __init__(self, records):
        self._records = records

    def __iter__(self):
        for doc_id, starts, hashes in self._records:
            yield doc_id, unpack_runs(starts), _unpack(hashes, _HASH)


def _group_cuts(limit: int):
    """(fingerprint key, records) -> (id, packed later-copy starts); past `limit` records, every
    k-gram goes out on its own to be regrouped by its hash (tagged output)."""

    def cuts(group):
        key, records = group
        seen = 0
        for _ in records:
            seen += 1
            if seen > limit:
                break
        if seen <= limit:  # at most `limit` records: unpacked once, held as a list
            for doc_id, later in substring.group_cuts(list(_Unpacked(records))):
                yield doc_id, pack_runs(later)
            return
        scope = key[0] if isinstance(key, tuple) else ""
        for doc_id, starts, hashes in _Unpacked(records):
            for q, h in zip(starts.tolist(), hashes.tolist()):
                yield beam.pvalue.TaggedOutput(_OVERFLOW, (_key(scope, h), (doc_id, q)))

    return cuts


def _later_copies(group):
    _, occurrences = group
    for doc_id, q in substring.later_copies(occurrences):
        yield doc_id, pack_runs(np.array([q]))


class _CutCopies(beam.DoFn):
    def __init__(self, cfg: DedupConfig, keep_text: bool):
        self._cfg = cfg
        self._keep_text = keep_text

    def setup(self):
        self._cut = Metrics.counter(SUBSTRING_STAGE, "cut")
        self._dropped = Metrics.counter(SUBSTRING_STAGE, DedupReason.SUBSTRING_DUPLICATE.value)
        self._decompressor = zstandard.ZstdDecompressor()

    def process(self, joined):
        _, grouped = joined
        parts = [unpack_runs(p) for p in grouped["cut"]]
        starts = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        sub = self._cfg.substring
        for packed in grouped["doc"]:
            doc = unpack_document(packed, self._decompressor)
            if not len(starts):
                yield doc
                continue
            word_starts, _ = substring.word_starts_ends(doc.text)  # one pass of the regex: count and offsets
            mask = substring.removed_mask(len(word_starts), starts, sub.min_tokens)
            ranges = substring.removed_ranges(doc.text, mask, word_starts)
            removed = sum(b - a for a, b in ranges)
            text = substring.cut(doc.text, ranges)
            left, fraction = len(text.strip()), removed / max(len(doc.text), 1)
            doc = doc.with_scores({CHARS_REMOVED: float(removed), SPANS_REMOVED: float(len(ranges)), REMOVED_FRACTION: fraction})
            yield beam.pvalue.TaggedOutput(_SCORED, doc)
            self._cut.inc()
            if left < sub.min_chars_left or fraction > sub.max_removed_fraction:
                self._dropped.inc()
                detail = f"{len(ranges)} repeated spans cut: {removed} of {len(doc.text)} characters ({fraction:.2f}), {left} left"
                yield beam.pvalue.TaggedOutput(
                    _REJECTED, Rejection.of(doc, SUBSTRING_STAGE, DedupReason.SUBSTRING_DUPLICATE, detail, self._keep_text)
                )
            else:
                yield doc.replace(text=text)


class _Fingerprints(beam.DoFn):
    def __init__(self, cfg: DedupConfig):
        self._cfg = cfg

    def process(self, batch):
        yield from fingerprint_counts(batch, self._cfg)


class _KgramRecords(beam.DoFn):
    """A batch of documents -> its k-gram records (tagged _KGRAMS); each document with some, packed
    for the join with its cuts (tagged _CANDIDATE); each document without, as it is (main: it
    holds no k-gram whose window minimum collided, so nothing of it can be cut)."""

    def __init__(self, cfg: DedupConfig):
        self._cfg = cfg

    def setup(self):
        self._compressor = zstandard.ZstdCompressor(level=_ZSTD_LEVEL)  # one per DoFn instance: not shared by threads

    def process(self, batch, candidates):
        if candidates is None:  # no fingerprint collided anywhere: nothing to cut
            yield from batch
            return
        sub = self._cfg.substring
        found = substring.batch_candidate_kgrams([d.text for d in batch], candidates, sub.min_tokens, sub.fingerprint_words)
        for doc, records in zip(batch, found):
            if not records:
                yield doc
                continue
            yield beam.pvalue.TaggedOutput(_CANDIDATE, (doc.id, pack_document(doc, self._compressor)))
            for record in _records(doc, records, self._cfg):
                yield beam.pvalue.TaggedOutput(_KGRAMS, record)


class _Unpack(beam.DoFn):
    """(id, packed document) -> the document."""

    def setup(self):
        self._decompressor = zstandard.ZstdDecompressor()

    def process(self, keyed):
        yield unpack_document(keyed[1], self._decompressor)


class CutRepeatedSubstrings(beam.PTransform):
    def __init__(self, cfg: DedupConfig, keep_text: bool):
        super().__init__(label=f"Dedup[{SUBSTRING_STAGE}]")
        self._cfg = cfg
        self._keep_text = keep_text

    def expand(self, docs):
        cfg = self._cfg
        size = cfg.substring.batch_size
        candidates = (
            docs
            | "Batch" >> beam.BatchElements(min_batch_size=size, max_batch_size=size)
            | "Fingerprints" >> beam.ParDo(_Fingerprints(cfg)).with_output_types(_ANY)
            | "GroupByFingerprint" >> beam.GroupByKey()
            | "Candidates" >> beam.FlatMap(_candidates).with_output_types(_ANY)
            | "CandidateSet" >> beam.CombineGlobally(value_counts.SortedValues()).without_defaults()  # none: the default below
        )
        regions = (
            docs
            | "BatchAgain" >> beam.BatchElements(min_batch_size=size, max_batch_size=size)
            | "Kgrams"
            >> beam.ParDo(_KgramRecords(cfg), beam.pvalue.AsSingleton(candidates, default_value=None))
            .with_output_types(_ANY)
            .with_outputs(_CANDIDATE, _KGRAMS, main="clean")
        )
        grouped = (
            regions[_KGRAMS]
            | "GroupByCandidate" >> beam.GroupByKey()
            | "LaterCopies" >> beam.FlatMap(_group_cuts(cfg.substring.group_limit)).with_output_types(_ANY).with_outputs(_OVERFLOW, main="cuts")
        )
        regrouped = (
            grouped[_OVERFLOW] | "GroupByKgram" >> beam.GroupByKey() | "LaterCopiesOfKgram" >> beam.FlatMap(_later_copies).with_output_types(_ANY)
        )
        cuts = (grouped.cuts, regrouped) | "AllCuts" >> beam.Flatten()
        split = regions[_CANDIDATE] | "SplitByCuts" >> SplitByIds(cuts | "CutIds" >> beam.Keys())
        out = (
            {"doc": split[AFFECTED], "cut": cuts}
            | "JoinCuts" >> beam.CoGroupByKey()
            | "Cut" >> beam.ParDo(_CutCopies(cfg, self._keep_text)).with_output_types(_ANY).with_outputs(_REJECTED, _SCORED, _SKIPPED, main="kept")
        )
        uncut = split.untouched | "Unpack" >> beam.ParDo(_Unpack()).with_output_types(_ANY)
        kept = (regions.clean, uncut, out.kept) | "Kept" >> beam.Flatten()
        # nothing is skipped: an output no element goes to (a Create([]) would add a stage)
        return SubstringResult(kept=kept, rejected=out[_REJECTED], skipped=out[_SKIPPED], scored=out[_SCORED])
