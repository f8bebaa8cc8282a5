"""Exact-substring deduplication through Beam (the algorithm and its guarantee:
pipeline.text.dedup.substring). Three shuffles of small records and two joins with documents:

    docs -(batches)-> (fingerprint, (id, position))  -GroupByKey->  candidates (id, position)
    docs + candidates -CoGroupByKey(id)-> documents without candidates: kept as they are
                                       -> the others: (k-gram hash, (id, start)) of candidate regions
    -GroupByKey(k-gram)-> later copies (id, start)
    candidate documents + later copies -CoGroupByKey(id)-> cut, kept or rejected

No step holds more than one document, one batch, or one key's values (iterated, never listed).
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


class _CandidateRegions(beam.DoFn):
    """Per id: a document without candidates is kept; one with candidates is passed on, with the
    k-gram hashes of every k-gram whose minimum is a candidate fingerprint."""

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
            starts, kh = substring.candidate_kgrams(doc.text, positions, sub.min_tokens, sub.fingerprint_words)
            scope = scope_of(doc, self._cfg)
            for q, h in zip(starts.tolist(), kh.view(np.int64).tolist()):
                yield beam.pvalue.TaggedOutput(_KGRAMS, (_key(scope, h), (doc.id, q)))


def _later_copies(group):
    _, occurrences = group
    yield from substring.later_copies(occurrences)


class _CutCopies(beam.DoFn):
    def __init__(self, cfg: DedupConfig, keep_text: bool):
        self._cfg = cfg
        self._keep_text = keep_text

    def setup(self):
        self._cut = Metrics.counter(SUBSTRING_STAGE, "cut")
        self._dropped = Metrics.counter(SUBSTRING_STAGE, DedupReason.SUBSTRING_DUPLICATE.value)

    def process(self, joined):
        _, grouped = joined
        starts = np.fromiter(grouped["cut"], dtype=np.int64)
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
        cuts = regions[_KGRAMS] | "GroupByKgram" >> beam.GroupByKey() | "LaterCopies" >> beam.FlatMap(_later_copies)
        out = (
            {"doc": regions[_CANDIDATE], "cut": cuts}
            | "JoinCuts" >> beam.CoGroupByKey()
            | "Cut" >> beam.ParDo(_CutCopies(cfg, self._keep_text)).with_outputs(_REJECTED, main="kept")
        )
        kept = (regions.clean, out.kept) | "Kept" >> beam.Flatten()
        return FilterResult(kept=kept, rejected=out[_REJECTED], skipped=docs.pipeline | "NoSkips" >> beam.Create([]))
