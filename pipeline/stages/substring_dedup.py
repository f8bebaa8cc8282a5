"""Exact-substring deduplication through Beam (the algorithm and its guarantee:
pipeline.text.dedup.substring). Two shuffles of small records and two joins with documents:

    docs -(batches)-> (fingerprint, (id, position))  -GroupByKey->  candidates (id, position)
    docs + candidates -CoGroupByKey(id)-> documents without candidates: kept as they are
                                       -> the others: per candidate fingerprint, one record of
                                          the k-grams whose window minimum it is (packed arrays)
    -GroupByKey(fingerprint)-> later copies (id, packed starts)
    candidate documents + later copies -CoGroupByKey(id)-> cut, kept or rejected

No step holds more than one document, one batch, or one key's values: a fingerprint's records are
counted first (Beam's grouped values re-iterate) and, past group_limit, regrouped by k-gram hash.
"""

import apache_beam as beam
import numpy as np
from apache_beam.metrics import Metrics

from pipeline.config import DedupConfig
from pipeline.records import Rejection
from pipeline.stages.base import FilterResult
from pipeline.stages.dedup import DedupReason, scope_of
from pipeline.text.dedup import substring
from pipeline.text.quality.rules import score_key

SUBSTRING_STAGE = "dedup.substring.v1"
CHARS_REMOVED = score_key(SUBSTRING_STAGE, "chars_removed")
SPANS_REMOVED = score_key(SUBSTRING_STAGE, "spans_removed")
_REJECTED = "rejected"
_CANDIDATE = "candidate"
_KGRAMS = "kgrams"
_OVERFLOW = "overflow"


def _key(scope: str, h: int):
    """The shuffle key of a hash: the bare int64 when dedup is global (no empty string to carry
    with each of ~0.07 fingerprints per word), (source, hash) when scope is source."""
    return (scope, h) if scope else h


class _Fingerprint(beam.DoFn):
    """A batch of documents -> (fingerprint key, (id, word position)) for each selected one."""

    def __init__(self, cfg: DedupConfig):
        self._cfg = cfg

    def process(self, batch):
        sub = self._cfg.substring
        found = substring.batch_fingerprints([d.text for d in batch], sub.min_tokens, sub.fingerprint_words)
        for doc, (positions, hashes) in zip(batch, found):
            scope = scope_of(doc, self._cfg)
            # int64 views: keys a varint coder takes as they are (a uint64 above 2^63 is not an int64)
            for p, h in zip(positions.tolist(), hashes.view(np.int64).tolist()):
                yield _key(scope, h), (doc.id, p)


def _candidates(group):
    """A fingerprint held at two or more places -> (id, position) of each."""
    _, occurrences = group
    seen = 0
    for _ in occurrences:  # count to 2 only, then iterate again (re-iterable grouped values)
        seen += 1
        if seen > 1:
            break
    if seen > 1:
        yield from occurrences


# Word positions travel as 4-byte ints (a document is far below 2^31 words), hashes as 8 bytes.
_POS, _HASH = "<i4", "<i8"


def _pack(values: np.ndarray, dtype: str = _POS) -> bytes:
    return values.astype(dtype).tobytes()


def _unpack(data: bytes, dtype: str = _POS) -> np.ndarray:
    return np.frombuffer(data, dtype=dtype).astype(np.int64)


class _CandidateRegions(beam.DoFn):
    """Per id: a document without candidates is kept; one with candidates is passed on, with one
    record (fingerprint key, (id, starts, k-gram hashes)) per candidate fingerprint value."""

    def __init__(self, cfg: DedupConfig):
        self._cfg = cfg

    def process(self, joined):
        _, grouped = joined
        positions = list(grouped["candidate"])  # at most ~2/(w+1) per word of one document
        sub = self._cfg.substring
        for doc in grouped["doc"]:
            if not positions:
                yield doc
                continue
            yield beam.pvalue.TaggedOutput(_CANDIDATE, (doc.id, doc))
            scope = scope_of(doc, self._cfg)
            for v, starts, hashes in substring.candidate_kgrams(doc.text, positions, sub.min_tokens, sub.fingerprint_words):
                key = _key(scope, int(np.uint64(v).view(np.int64)))
                yield beam.pvalue.TaggedOutput(_KGRAMS, (key, (doc.id, _pack(starts), _pack(hashes.view(np.int64), _HASH))))


class _Unpacked:
    """Packed records (id, starts bytes, hashes bytes) seen as (id, starts, hashes), re-iterable
    as the grouped values under it are."""

    def __init__(self, records):
        self._records = records

    def __iter__(self):
        for doc_id, starts, hashes in self._records:
            yield doc_id, _unpack(starts), _unpack(hashes, _HASH)


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
        if seen <= limit:
            for doc_id, later in substring.group_cuts(_Unpacked(records)):
                yield doc_id, _pack(later)
            return
        scope = key[0] if isinstance(key, tuple) else ""
        for doc_id, starts, hashes in _Unpacked(records):
            for q, h in zip(starts.tolist(), hashes.tolist()):
                yield beam.pvalue.TaggedOutput(_OVERFLOW, (_key(scope, h), (doc_id, q)))

    return cuts


def _later_copies(group):
    _, occurrences = group
    for doc_id, q in substring.later_copies(occurrences):
        yield doc_id, _pack(np.array([q]))


class _CutCopies(beam.DoFn):
    def __init__(self, cfg: DedupConfig, keep_text: bool):
        self._cfg = cfg
        self._keep_text = keep_text

    def setup(self):
        self._cut = Metrics.counter(SUBSTRING_STAGE, "cut")
        self._dropped = Metrics.counter(SUBSTRING_STAGE, DedupReason.SUBSTRING_DUPLICATE.value)

    def process(self, joined):
        _, grouped = joined
        parts = [_unpack(p) for p in grouped["cut"]]
        starts = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        sub = self._cfg.substring
        for doc in grouped["doc"]:
            if not len(starts):
                yield doc
                continue
            n_words = len(substring.words(doc.text))
            ranges = substring.removed_ranges(doc.text, substring.removed_mask(n_words, starts, sub.min_tokens))
            removed = sum(b - a for a, b in ranges)
            text = substring.cut(doc.text, ranges)
            doc = doc.with_scores({CHARS_REMOVED: float(removed), SPANS_REMOVED: float(len(ranges))})
            self._cut.inc()
            left, fraction = len(text.strip()), removed / max(len(doc.text), 1)
            if left < sub.min_chars_left or fraction > sub.max_removed_fraction:
                self._dropped.inc()
                detail = f"{len(ranges)} repeated spans cut: {removed} of {len(doc.text)} characters ({fraction:.2f}), {left} left"
                yield beam.pvalue.TaggedOutput(
                    _REJECTED, Rejection.of(doc, SUBSTRING_STAGE, DedupReason.SUBSTRING_DUPLICATE, detail, self._keep_text)
                )
            else:
                yield doc.replace(text=text)


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
            | "Fingerprints" >> beam.ParDo(_Fingerprint(cfg))
            | "GroupByFingerprint" >> beam.GroupByKey()
            | "Candidates" >> beam.FlatMap(_candidates)
        )
        regions = (
            {"doc": docs | "ById" >> beam.Map(lambda d: (d.id, d)), "candidate": candidates}
            | "JoinCandidates" >> beam.CoGroupByKey()
            | "Regions" >> beam.ParDo(_CandidateRegions(cfg)).with_outputs(_CANDIDATE, _KGRAMS, main="clean")
        )
        grouped = (
            regions[_KGRAMS]
            | "GroupByFingerprintAgain" >> beam.GroupByKey()
            | "LaterCopies" >> beam.FlatMap(_group_cuts(cfg.substring.group_limit)).with_outputs(_OVERFLOW, main="cuts")
        )
        regrouped = grouped[_OVERFLOW] | "GroupByKgram" >> beam.GroupByKey() | "LaterCopiesOfKgram" >> beam.FlatMap(_later_copies)
        cuts = (grouped.cuts, regrouped) | "AllCuts" >> beam.Flatten()
        out = (
            {"doc": regions[_CANDIDATE], "cut": cuts}
            | "JoinCuts" >> beam.CoGroupByKey()
            | "Cut" >> beam.ParDo(_CutCopies(cfg, self._keep_text)).with_outputs(_REJECTED, main="kept")
        )
        kept = (regions.clean, out.kept) | "Kept" >> beam.Flatten()
        return FilterResult(kept=kept, rejected=out[_REJECTED], skipped=docs.pipeline | "NoSkips" >> beam.Create([]))
