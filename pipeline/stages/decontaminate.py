"""Decontamination (decontaminate.ngram.v1): training documents that share a word n-gram with an
evaluation set are rejected (`contaminated`), or with mode cut lose the matching spans.

The evaluation sets are read once, in the pipeline, into an EvalIndex (pipeline.text.decontam):
sorted n-gram hashes, small enough to reach every worker as a side input. Documents are checked in
batches against it; nothing is shuffled but the per-set counts, which go to stats.json as
facts["decontamination"]: per eval set, its n-grams and the documents rejected or cut.
"""

import json
from typing import NamedTuple

import apache_beam as beam
import numpy as np
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from pipeline.config import ConfigError
from pipeline.records import Reason, Rejection
from pipeline.stages import registry
from pipeline.text import decontam
from pipeline.text.decontam import DecontaminationConfig
from pipeline.text.quality.rules import score_key

DECONTAM_STAGE = registry.DECONTAM_STAGE  # the registry declares every stage id (pipeline.stages.registry)
CHARS_REMOVED = score_key(DECONTAM_STAGE, "chars_removed")
NGRAMS_MATCHED = score_key(DECONTAM_STAGE, "ngrams_matched")
_REJECTED = "rejected"
_EVENTS = "events"


class DecontamReason(Reason):
    CONTAMINATED = "contaminated"


def check_eval_sets(cfg: DecontaminationConfig) -> None:
    """Stops the run before any work when an evaluation set is missing."""
    if not cfg.enabled:
        return
    for i, path in enumerate(cfg.eval_sets):
        if not FileSystems.exists(path):
            raise ConfigError(f"decontamination.eval_sets[{i}]: no file at {path}")


def read_eval_texts(path: str, text_field: str) -> tuple[list[str], int]:
    """(passages, records without a string `text_field`) of a JSONL(.gz/.zst) or Parquet file."""
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq

        with FileSystems.open(path, compression_type="uncompressed") as f:
            column = pq.read_table(f, columns=[text_field]).column(text_field).to_pylist()
        texts = [t for t in column if isinstance(t, str)]
        return texts, len(column) - len(texts)
    texts, bad = [], 0
    with FileSystems.open(path) as f:  # compression from the extension; eval sets are small
        lines = f.read().splitlines()
    for line in lines:
        if not line.strip():
            continue
        try:
            value = json.loads(line).get(text_field)
        except (ValueError, AttributeError):
            value = None
        if isinstance(value, str):
            texts.append(value)
        else:
            bad += 1
    return texts, bad


def _set_hashes(cfg: DecontaminationConfig):
    def build(indexed_path):
        i, path = indexed_path
        texts, bad = read_eval_texts(path, cfg.text_field)
        return i, path, decontam.set_hashes(texts, cfg.ngram), len(texts), bad

    return build


def _index(per_set) -> dict:
    per_set = sorted(per_set)
    index = decontam.EvalIndex.build([(path, hashes) for _, path, hashes, _, _ in per_set])
    passages = {path: (n, bad) for _, path, _, n, bad in per_set}
    return {"index": index, "passages": passages}


class _Check(beam.DoFn):
    def __init__(self, cfg: DecontaminationConfig, keep_text: bool):
        self._cfg = cfg
        self._keep_text = keep_text

    def setup(self):
        self._rejected = Metrics.counter(DECONTAM_STAGE, DecontamReason.CONTAMINATED.value)
        self._cut = Metrics.counter(DECONTAM_STAGE, "cut")

    def process(self, batch, side):
        index, n = side["index"], self._cfg.ngram
        for doc in batch:
            positions, sets = index.matches(decontam.ngram_hashes(doc.text, n))
            if not len(positions):
                yield doc
                continue
            first = index.names[sets[0]]
            for s in np.unique(sets).tolist():
                yield beam.pvalue.TaggedOutput(_EVENTS, ((index.names[s], "ngrams_matched"), int((sets == s).sum())))
            detail = f"{len(positions)} {n}-grams of {first}, first: '{decontam.ngram_text(doc.text, int(positions[0]), n)}'"
            if self._cfg.mode == "cut":
                text, removed = decontam.cut_ngrams(doc.text, positions, n)
                doc = doc.with_scores({CHARS_REMOVED: float(removed), NGRAMS_MATCHED: float(len(positions))})
                if len(text.strip()) >= self._cfg.min_chars_left:
                    self._cut.inc()
                    yield beam.pvalue.TaggedOutput(_EVENTS, ((first, "documents_cut"), 1))
                    yield beam.pvalue.TaggedOutput(_EVENTS, ((first, "characters_cut"), removed))
                    yield doc.replace(text=text)
                    continue
                detail += f"; {len(text.strip())} characters left after cutting"
            self._rejected.inc()
            yield beam.pvalue.TaggedOutput(_EVENTS, ((first, "documents_rejected"), 1))
            yield beam.pvalue.TaggedOutput(_REJECTED, Rejection.of(doc, DECONTAM_STAGE, DecontamReason.CONTAMINATED, detail, self._keep_text))


def _facts(counts, side) -> dict:
    """{eval set: {passages, ngrams, documents_rejected, documents_cut, characters_cut, ngrams_matched}}."""
    index, passages = side["index"], side["passages"]
    out = {}
    for name, ngrams in zip(index.names, index.ngrams):
        n, bad = passages[name]
        out[name] = {
            "passages": n,
            "records_without_text": bad,
            "ngrams": ngrams,
            "documents_rejected": 0,
            "documents_cut": 0,
            "characters_cut": 0,
            "ngrams_matched": 0,
        }
    for (name, what), value in counts:
        out[name][what] += value
    return out


class DecontaminationResult(NamedTuple):
    kept: beam.PCollection
    rejected: beam.PCollection
    facts: beam.PCollection  # singleton: _facts' dict


class Decontaminate(beam.PTransform):
    def __init__(self, cfg: DecontaminationConfig, keep_text: bool):
        super().__init__(label=f"Decontaminate[{DECONTAM_STAGE}]")
        self._cfg = cfg
        self._keep_text = keep_text

    def expand(self, docs):
        cfg = self._cfg
        index = (
            docs.pipeline
            | "EvalSets" >> beam.Create(list(enumerate(cfg.eval_sets)))
            | "HashEvalSet" >> beam.Map(_set_hashes(cfg))
            | "AllSets" >> beam.combiners.ToList()
            | "Index" >> beam.Map(_index)
        )
        side = beam.pvalue.AsSingleton(index)
        out = (
            docs
            | "Batch" >> beam.BatchElements(min_batch_size=cfg.batch_size, max_batch_size=cfg.batch_size)
            | "Check" >> beam.ParDo(_Check(cfg, self._keep_text), side).with_outputs(_REJECTED, _EVENTS, main="kept")
        )
        facts = out[_EVENTS] | "SumEvents" >> beam.CombinePerKey(sum) | "EventList" >> beam.combiners.ToList() | "Facts" >> beam.Map(_facts, side)
        return DecontaminationResult(kept=out.kept, rejected=out[_REJECTED], facts=facts)
