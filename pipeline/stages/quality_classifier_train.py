"""The quality classifier's model: the given path, or one trained in this run on one worker.

    candidates -> TrainingExamples   ((label, split), (hash, text)): reference sources positive, raw
                                     web negative, taken before the quality gates as GPT-3 and DCLM
                                     did; split train/held-out by id hash
               -> SmallestPerKey     at most max_per_class per (label, split), by hash
               -> ToList -> Train    one worker: classes balanced, hash-ordered text, one fastText
                                     thread, fixed seed -> model bytes + held-out figures
               -> WriteTrainedModel  OUT/models/quality_classifier.bin, written atomically (the
                                     graph applies it, where the output folder is known)

The bytes reach the scoring workers as a singleton side input (stages/quality_classifier.py).
"""

import hashlib
from typing import Any

import apache_beam as beam
import numpy as np

from pipeline.io.write import write_atomically
from pipeline.mixture import doc_hash
from pipeline.records import Document
from pipeline.stages.quality_classifier import ClassifierModel
from pipeline.text.quality_classifier import QualityClassifierConfig
from pipeline.text.quality_classifier.metrics import figures
from pipeline.text.quality_classifier.selection import HELDOUT_SALT, TRAIN_ORDER_SALT, uniform

MODEL_FILE = "models/quality_classifier.bin"
TRAIN, HELDOUT = "train", "heldout"


def train_and_validate(groups: list[tuple[tuple[str, str], list[tuple[int, str]]]], cfg: QualityClassifierConfig) -> tuple[bytes, dict[str, Any]]:
    """[((label, split), [(hash, text)])] -> (model bytes, or b"" with too few examples; facts)."""
    from pipeline.text.quality_classifier.model import LabelProbability
    from pipeline.text.quality_classifier.train import load_from_bytes, train_fasttext_bytes

    t = cfg.train
    pos, neg = cfg.label, t.negative_label
    by = {key: sorted(entries) for key, entries in groups}  # smallest hashes first, whatever order they came in

    def balanced(split: str) -> list[tuple[int, str, str]]:
        p, n = by.get((pos, split), []), by.get((neg, split), [])
        k = min(len(p), len(n))
        return sorted([(h, pos, text) for h, text in p[:k]] + [(h, neg, text) for h, text in n[:k]])

    train = balanced(TRAIN)
    facts: dict[str, Any] = {
        "trained": False,
        "model": None,
        "labels": [pos, neg],
        "positive_sources": list(t.positive_sources),
        "negative_sources": list(t.negative_sources),
        "available": {split: {"positives": len(by.get((pos, split), [])), "negatives": len(by.get((neg, split), []))} for split in (TRAIN, HELDOUT)},
        "train_per_class": len(train) // 2,
    }
    if len(train) // 2 < t.min_per_class:
        facts["reason"] = f"{len(train) // 2} training documents per class < train.min_per_class {t.min_per_class}: no model, nothing scored"
        return b"", facts
    model_bytes, lr = train_fasttext_bytes([(label, text) for _, label, text in train], t, cfg.preprocess)
    if not model_bytes:
        facts["reason"] = f"fastText diverged (NaN) down to lr {lr:g}: no model, nothing scored; try a larger train.dim or a smaller train.lr"
        return b"", facts
    facts["trained"] = True
    facts["lr"] = lr  # train.lr, or the halved rate fastText converged with
    heldout = balanced(HELDOUT)
    if heldout:
        scorer = LabelProbability(load_from_bytes(model_bytes), pos, cfg.preprocess)
        labels = np.asarray([label == pos for _, label, _ in heldout])
        facts["heldout"] = figures(labels, np.asarray(scorer.scores([text for _, _, text in heldout])))
    else:
        facts["heldout"] = None
    return model_bytes, facts


FACT = "quality_classifier"  # stats.json facts key


class _WriteModel(beam.DoFn):
    """(bytes, facts) -> facts with the model's file, sha256 and size; the file written atomically
    (a retried bundle rewrites the same bytes). Facts come after the file, so stats.json does too."""

    def __init__(self, output: str | None):
        self._output = output

    def process(self, trained):
        model_bytes, facts = trained
        if model_bytes:
            if self._output:
                write_atomically(f"{self._output}/{MODEL_FILE}", lambda sink: sink.write(model_bytes))
                facts = {**facts, "model": MODEL_FILE}
            facts = {**facts, "sha256": hashlib.sha256(model_bytes).hexdigest(), "bytes": len(model_bytes)}
        yield facts


class QualityClassifierModel(beam.PTransform):
    """candidates (documents after the language gate) -> ClassifierModel (model bytes or None,
    facts of a given model, what to write of a trained one)."""

    def __init__(self, cfg: QualityClassifierConfig, seed: int):
        super().__init__()
        self._cfg, self._seed = cfg, seed

    def expand(self, candidates):
        cfg, seed = self._cfg, self._seed
        if cfg.model:
            given = {"trained": False, "model": cfg.model, "labels": [cfg.label]}
            return ClassifierModel(None, {FACT: candidates.pipeline | "GivenModel" >> beam.Create([given])}, {})
        t = cfg.train
        label_of = {**{s: cfg.label for s in t.positive_sources}, **{s: t.negative_label for s in t.negative_sources}}

        def example(doc: Document):
            label = label_of.get(doc.source)
            if label is not None:
                split = HELDOUT if uniform(seed, doc.id, HELDOUT_SALT) < t.heldout_fraction else TRAIN
                yield (label, split), (doc_hash(seed, doc.id, TRAIN_ORDER_SALT), doc.text)

        trained = (
            candidates
            | "TrainingExamples" >> beam.FlatMap(example)
            | "CapPerClass" >> beam.combiners.Top.SmallestPerKey(t.max_per_class)
            | "OneWorker" >> beam.combiners.ToList()
            | "Train" >> beam.Map(train_and_validate, cfg)
        )
        model_bytes = trained | "ModelBytes" >> beam.Map(lambda pair: pair[0])
        return ClassifierModel(model_bytes, {}, {FACT: trained})


class WriteTrainedModel(beam.PTransform):
    """singleton (model bytes, facts) -> singleton facts, after OUT/models/quality_classifier.bin
    is written (output None: nothing written, the facts still get the sha256)."""

    def __init__(self, output: str | None):
        super().__init__()
        self._output = output

    def expand(self, trained):
        return trained | "WriteModel" >> beam.ParDo(_WriteModel(self._output))
