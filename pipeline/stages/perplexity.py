"""Perplexity: score with KenLM (per language), cut into CCNet's head/middle/tail buckets, gate.

    docs -> Annotate[ScorePerplexity]        scores["perplexity.kenlm.v1:perplexity"] (KenLM, CCNet's per-line sum)
         -> AssignBuckets (side input)       scores["perplexity.buckets.v1:bucket"]: 0 head, 1 middle, 2 tail
         -> Filter[PerplexityGate]           rejects buckets not kept, and above max_perplexity

Run-mode cutoffs are the configured percentiles of each language's perplexities in this run,
computed on a sample that is a pure function of (seed, document id) (the reference_size smallest
id hashes per language), so they never depend on bundle order or on the runner.
"""

import hashlib
import json
import logging
import os
from typing import Any

import apache_beam as beam
import numpy as np
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from pipeline.config import ConfigError, PipelineConfig
from pipeline.io.local import local_copy
from pipeline.records import Document, Reason
from pipeline.stages import registry
from pipeline.stages.base import KEEP, Verdict, WorkerResource
from pipeline.stages.chain import Step
from pipeline.text.perplexity import BUCKETS, PerplexityConfig

SCORE_STAGE = registry.PERPLEXITY_STAGE  # the registry declares every stage id (pipeline.stages.registry)
BUCKET_STAGE = registry.BUCKET_STAGE
FILTER_STAGE = registry.PERPLEXITY_FILTER_STAGE
PERPLEXITY = f"{SCORE_STAGE}:perplexity"
BUCKET = f"{BUCKET_STAGE}:bucket"
SHIPPED_DIR = os.path.join(os.path.dirname(__file__), "..", "text", "perplexity", "models")


class PerplexityReason(Reason):
    BUCKET_HEAD = "perplexity_head"
    BUCKET_MIDDLE = "perplexity_middle"
    BUCKET_TAIL = "perplexity_tail"
    ABOVE_MAX = "perplexity_above_max"


_BUCKET_REASONS = (PerplexityReason.BUCKET_HEAD, PerplexityReason.BUCKET_MIDDLE, PerplexityReason.BUCKET_TAIL)


def shipped_models() -> dict[str, str]:
    folder = os.path.normpath(SHIPPED_DIR)
    return {name.split(".")[0]: os.path.join(folder, name) for name in sorted(os.listdir(folder)) if name.endswith(".binary")}


def model_paths(cfg: PerplexityConfig) -> dict[str, str]:
    """The shipped models (unless shipped_models is off), with the configured ones added or replacing them per language."""
    return {**(shipped_models() if cfg.shipped_models else {}), **cfg.models}


def check_models(cfg: PerplexityConfig) -> None:
    """Every configured model exists, and a model we trained was normalized as we score: a
    mismatch would give numbers that look right and mean nothing. ConfigError otherwise."""
    from pipeline.text.perplexity.model import NORMALIZATION, SENTENCEPIECE_NORMALIZATION, metadata_path

    if not cfg.enabled:
        return
    if cfg.sentencepiece:
        try:
            import sentencepiece  # noqa: F401
        except ImportError:
            raise ConfigError("perplexity.sentencepiece: needs the sentencepiece package: pip install 'corpusforge[ccnet]'") from None
    for lang, path in cfg.sentencepiece.items():
        if not FileSystems.exists(path):
            raise ConfigError(f"perplexity.sentencepiece.{lang}: no file at {path}")
    for lang, path in model_paths(cfg).items():
        key = f"perplexity.models.{lang}"
        expected = SENTENCEPIECE_NORMALIZATION if lang in cfg.sentencepiece else NORMALIZATION
        if not FileSystems.exists(path):
            raise ConfigError(f"{key}: no file at {path}")
        meta_path = metadata_path(path)
        if not FileSystems.exists(meta_path):
            if not cfg.allow_unrecorded:
                raise ConfigError(
                    f"{key}: {path} has no {meta_path} saying how its training text was prepared (pipeline.lm.train writes it);"
                    " set perplexity.allow_unrecorded: true to score with it anyway"
                )
            logging.getLogger(__name__).warning("%s: %s has no record of how it was trained; scoring with it as %s text", key, path, expected)
            continue
        with FileSystems.open(meta_path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            meta = json.loads(f.read().decode("utf-8"))
        if meta.get("normalization", expected) != expected:
            raise ConfigError(
                f"{key}: {path} was trained on {meta['normalization']} text; this version scores {expected} text for it: retrain it or fix perplexity.sentencepiece"
            )


def _load_models(paths: dict[str, str], pieces: dict[str, str], shipped: bool) -> dict:
    """lang -> LanguageModel. Binary models are memory-mapped: every process on a machine shares
    their pages. The shipped ones are found here, in the worker's own install."""
    from pipeline.text.perplexity.model import LanguageModel

    paths = {**(shipped_models() if shipped else {}), **paths}
    return {lang: LanguageModel(local_copy(path), local_copy(pieces[lang]) if lang in pieces else None) for lang, path in sorted(paths.items())}


class ScorePerplexity:
    """Annotator: scores[PERPLEXITY] for documents in a language with a model, except exempt sources."""

    stage_id = SCORE_STAGE

    def __init__(self, cfg: PerplexityConfig):
        self._exempt = frozenset(cfg.exempt_sources)
        self._models = WorkerResource(_load_models, dict(cfg.models), dict(cfg.sentencepiece), cfg.shipped_models)

    def setup(self) -> None:
        self._models.get()

    def annotate(self, docs: list[Document]) -> list[Document]:
        models = self._models.get()
        out = []
        for doc in docs:
            model = models.get(doc.lang or "") if doc.source not in self._exempt else None
            perplexity = model.score(doc.text).perplexity if model is not None else None
            out.append(doc if perplexity is None else doc.with_scores({PERPLEXITY: perplexity}))
        return out


def reference_key(seed: int, doc_id: str) -> int:
    """The document's rank in the reference sample: smallest keys are sampled first."""
    return int.from_bytes(hashlib.blake2b(f"{seed}\x00{doc_id}".encode(), digest_size=8).digest(), "big")


def cutoffs_from_sample(values: list[float], percentiles: list[float]) -> list[float]:
    return [float(v) for v in np.percentile(np.asarray(values, dtype=np.float64), percentiles)]


class PerplexityCutoffs(beam.PTransform):
    """scored docs -> a singleton {lang: {"cutoffs": [head max, middle max], "sample": n}}; a
    language with fewer than min_reference scored documents in the gated sources is left out."""

    def __init__(self, cfg: PerplexityConfig, seed: int):
        super().__init__()
        self._cfg = cfg
        self._seed = seed

    def expand(self, docs):
        cfg, seed = self._cfg, self._seed
        if cfg.buckets == "fixed":
            fixed = {lang: {"cutoffs": list(cuts), "sample": 0} for lang, cuts in sorted(cfg.cutoffs.items())}
            return docs.pipeline | "FixedCutoffs" >> beam.Create([fixed])
        if cfg.buckets == "off":
            return docs.pipeline | "NoCutoffs" >> beam.Create([{}])
        gated = frozenset(cfg.gate_sources)

        def sample_entry(doc: Document):
            value = doc.scores.get(PERPLEXITY)
            if value is not None and doc.source in gated:
                yield doc.lang, (reference_key(seed, doc.id), value)

        def cutoffs(item):
            lang, sample = item
            if len(sample) >= cfg.min_reference:
                yield lang, {"cutoffs": cutoffs_from_sample([v for _, v in sample], cfg.percentiles), "sample": len(sample)}

        return (
            docs
            | "ReferenceEntries" >> beam.FlatMap(sample_entry)
            | "ReferenceSample" >> beam.combiners.Top.SmallestPerKey(cfg.reference_size)
            | "Percentiles" >> beam.FlatMap(cutoffs)
            | "ByLanguage" >> beam.combiners.ToDict()
        )


def bucket_of(perplexity: float, cutoffs: list[float]) -> int:
    """CCNet's rule: head below the first cut, middle below the second, tail from there."""
    head, middle = cutoffs
    return 0 if perplexity < head else 1 if perplexity < middle else 2


class BucketPerplexity:
    """Annotator with the cutoffs as its side input: gated sources' scored documents get
    scores[BUCKET]."""

    stage_id = BUCKET_STAGE

    def __init__(self, cfg: PerplexityConfig):
        self._gated = frozenset(cfg.gate_sources)

    def setup(self) -> None:
        pass

    def annotate(self, docs: list[Document], by_lang: dict[str, Any]) -> list[Document]:
        out = []
        for doc in docs:
            value = doc.scores.get(PERPLEXITY)
            entry = by_lang.get(doc.lang) if doc.source in self._gated and value is not None else None
            out.append(doc if entry is None else doc.with_scores({BUCKET: float(bucket_of(value, entry["cutoffs"]))}))
        return out


class AssignBuckets(beam.PTransform):
    """docs -> the same docs, bucketed by BucketPerplexity (one at a time, outside a chain)."""

    def __init__(self, cfg: PerplexityConfig, cutoffs):
        super().__init__()
        self._bucketer = BucketPerplexity(cfg)
        self._cutoffs = cutoffs

    def expand(self, docs):
        bucketer = self._bucketer
        return docs | "AssignBuckets" >> beam.Map(lambda d, by_lang: bucketer.annotate([d], by_lang)[0], beam.pvalue.AsSingleton(self._cutoffs))


class PerplexityGate:
    """Gate: keeps the configured buckets and what is under max_perplexity, in gated sources."""

    stage_id = FILTER_STAGE

    def __init__(self, cfg: PerplexityConfig):
        self._langs = frozenset(model_paths(cfg))
        self._exempt = frozenset(cfg.exempt_sources)
        self._gated = frozenset(cfg.gate_sources)
        self._bucketing = cfg.buckets != "off"
        self._keep = frozenset(BUCKETS.index(b) for b in cfg.keep)
        self._max = dict(cfg.max_perplexity)

    def setup(self) -> None:
        pass

    def check(self, doc: Document) -> Verdict:
        if doc.source in self._exempt:
            return KEEP
        value = doc.scores.get(PERPLEXITY)
        if value is None:  # counted: the report says how much text went unscored, and why
            return Verdict(skipped=("no_words",) if doc.lang in self._langs else ("no_model",))
        if doc.source not in self._gated:
            return KEEP
        limit = self._max.get(doc.lang or "", self._max.get("*"))
        if limit is not None and value > limit:
            return Verdict(PerplexityReason.ABOVE_MAX, f"perplexity={value:.1f} > {limit:g}")
        if not self._bucketing:
            return KEEP
        bucket = doc.scores.get(BUCKET)
        if bucket is None:
            return Verdict(skipped=("no_cutoffs",))
        if int(bucket) not in self._keep:
            return Verdict(_BUCKET_REASONS[int(bucket)], f"perplexity={value:.1f} bucket={BUCKETS[int(bucket)]}")
        return KEEP


def build(graph, cfg: PipelineConfig) -> None:
    """Registry builder: score in the running chain; the cutoffs need every score, so the
    buckets and the gate run in a chain of their own, with the cutoffs as a side input."""
    ppl = cfg.perplexity
    if not ppl.enabled:
        return
    graph.add_steps("Perplexity", [Step(ScorePerplexity(ppl), ppl.batch_size)])
    cutoffs = graph.docs() | "PerplexityCutoffs" >> PerplexityCutoffs(ppl, cfg.seed)
    graph.out.facts["perplexity_cutoffs"] = cutoffs
    graph.chain("PerplexityBuckets", [Step(BucketPerplexity(ppl), ppl.batch_size), Step(PerplexityGate(ppl))], side=cutoffs)
