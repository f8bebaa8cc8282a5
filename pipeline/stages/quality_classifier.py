"""Quality classifier: score with a fastText model (given, or trained in this run), then select.

    candidates (after language ID) -> QualityClassifierModel   the model: a path, or bytes trained on
                                                               one worker (quality_classifier_train.py)
    docs -> ScoreQuality                    scores["quality_classifier.fasttext.v1:score"] on `apply` sources
         -> QualityCutoffs (top_fraction)   a singleton: the (1 - f) percentile per (source, language)
         -> MarkCutoffs (top_fraction)      scores["quality_classifier.filter.v1:cutoff"]
         -> Filter[QualityClassifierGate]   threshold | top_fraction | pareto (GPT-3)

The score is the probability fastText's own predict gives the positive label, on the text prepared
as the model's training text was (config: preprocess).
"""

import hashlib
from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from pipeline.config import ConfigError, PipelineConfig
from pipeline.io.local import local_copy
from pipeline.mixture import doc_hash
from pipeline.records import Document, Reason
from pipeline.stages import registry
from pipeline.stages.base import KEEP, Verdict, WorkerResource
from pipeline.stages.chain import RunChain, Step
from pipeline.text.quality_classifier import QualityClassifierConfig
from pipeline.text.quality_classifier.model import LabelProbability, load_fasttext
from pipeline.text.quality_classifier.selection import SAMPLE_SALT, pareto_keeps, top_fraction_cutoff

SCORE_STAGE = registry.CLASSIFIER_STAGE  # the registry declares every stage id (pipeline.stages.registry)
MARK_STAGE = registry.CLASSIFIER_MARK_STAGE
FILTER_STAGE = registry.CLASSIFIER_FILTER_STAGE
SCORE = f"{SCORE_STAGE}:score"
CUTOFF = f"{FILTER_STAGE}:cutoff"  # top_fraction: the cutoff of the document's (source, language)


class ClassifierReason(Reason):
    BELOW_THRESHOLD = "classifier_below_threshold"
    BELOW_CUTOFF = "classifier_below_cutoff"
    PARETO = "classifier_pareto_draw"


def check_model(cfg: QualityClassifierConfig) -> None:
    """A given model exists, loads and has the positive label; ConfigError (one line) otherwise."""
    if not cfg.enabled or not cfg.model:
        return
    if not FileSystems.exists(cfg.model):
        raise ConfigError(f"quality_classifier.model: no file at {cfg.model}")
    try:
        model = load_fasttext(local_copy(cfg.model))
    except Exception as e:  # noqa: BLE001 - any failure to load is one line for the user
        raise ConfigError(f"quality_classifier.model: {cfg.model} is not a fastText model: {str(e).splitlines()[0]}") from None
    if cfg.label not in model.labels:
        raise ConfigError(f"quality_classifier.label: {cfg.model} has no label {cfg.label} (its labels: {', '.join(model.labels[:10])})")


def _scorer_from_path(path: str, label: str, preprocess: str) -> LabelProbability:
    return LabelProbability(load_fasttext(local_copy(path)), label, preprocess)


def _scorer_from_bytes(label: str, preprocess: str, model_bytes: bytes) -> LabelProbability:
    from pipeline.text.quality_classifier.train import load_from_bytes

    return LabelProbability(load_from_bytes(model_bytes), label, preprocess)


class ScoreQuality:
    """Annotator: scores[SCORE] on documents of `apply` sources, one fastText predict per batch.

    The model is a path (loaded in setup) or, when trained in the run, bytes given through
    use_model_bytes() by ScoreQualityWithTrainedModel; either way once per worker process, shared
    by its threads (WorkerResource; fastText's predict keeps no state between calls)."""

    stage_id = SCORE_STAGE

    def __init__(self, cfg: QualityClassifierConfig):
        self._path = cfg.model
        self._apply = frozenset(cfg.apply)
        self._from_path = WorkerResource(_scorer_from_path, cfg.model, cfg.label, cfg.preprocess)
        self._from_bytes = WorkerResource(_scorer_from_bytes, cfg.label, cfg.preprocess)
        self._scorer: LabelProbability | None = None
        self._bytes: bytes | None = None  # the side input last seen, compared by identity

    def setup(self) -> None:
        if self._path:
            self._scorer = self._from_path.get()

    def use_model_bytes(self, model_bytes: bytes) -> None:
        """The trained model's bytes (a side input: the same object for a worker's bundles)."""
        if model_bytes is self._bytes:
            return
        self._bytes = model_bytes
        if not model_bytes:  # too few training examples: no model, nothing is scored (stats.json says why)
            self._scorer = None
            return
        self._scorer = self._from_bytes.get(model_bytes, key=hashlib.sha256(model_bytes).hexdigest())

    def annotate(self, docs: list[Document]) -> list[Document]:
        if self._scorer is None:
            assert not self._path, "setup() was not called"
            return list(docs)
        picked = [i for i, d in enumerate(docs) if d.source in self._apply]
        out = list(docs)
        if picked:
            scores = self._scorer.scores([docs[i].text for i in picked])
            for i, score in zip(picked, scores):
                out[i] = docs[i].with_scores({SCORE: score})
        return out

    def __getstate__(self):
        return {**self.__dict__, "_scorer": None, "_bytes": None}


class ScoreQualityWithTrainedModel(ScoreQuality):
    """Annotator for a chain whose side input is the trained model's bytes."""

    def annotate(self, docs: list[Document], model_bytes: bytes) -> list[Document]:  # type: ignore[override]
        self.use_model_bytes(model_bytes)
        return super().annotate(docs)


def score_quality(docs, cfg: QualityClassifierConfig, model_bytes=None):
    """docs -> scored docs, one batch at a time: with the given model (cfg.model), or the trained one's bytes."""
    scorer = ScoreQualityWithTrainedModel(cfg) if model_bytes is not None else ScoreQuality(cfg)
    return (docs | RunChain(f"Annotate[{SCORE_STAGE}]", [Step(scorer, cfg.batch_size)], cfg.batch_size, False, _no_histogram, model_bytes)).kept


def _no_histogram(docs, stage_id):
    return {}


class QualityCutoffs(beam.PTransform):
    """scored docs -> a singleton {"mode", "cutoffs": {source: {lang: cutoff}}, "samples": {source:
    {lang: n}}}: top_fraction's (1 - f) percentile per (source, language) from the reference_size
    smallest id hashes (a group under min_reference gets none); threshold: the threshold for every
    `apply` source ("*": any language); pareto: none. The report draws these lines."""

    def __init__(self, cfg: QualityClassifierConfig, seed: int):
        super().__init__()
        self._cfg = cfg
        self._seed = seed

    def expand(self, docs):
        cfg, seed, select = self._cfg, self._seed, self._cfg.select
        if select.mode != "top_fraction":
            cuts = {s: {"*": select.threshold} for s in sorted(cfg.apply)} if select.mode == "threshold" else {}
            return docs.pipeline | "SelectionCutoffs" >> beam.Create([{"mode": select.mode, "cutoffs": cuts, "samples": {}}])

        def sample_entry(doc: Document):
            score = doc.scores.get(SCORE)
            if score is not None:
                yield (doc.source, doc.lang or "unknown"), (doc_hash(seed, doc.id, SAMPLE_SALT), score)

        def cutoff(item):
            group, sample = item
            if len(sample) >= select.min_reference:
                yield group, (top_fraction_cutoff([s for _, s in sample], select.fraction), len(sample))

        def nest(by_group: dict) -> dict[str, Any]:
            cuts: dict[str, dict[str, float]] = {}
            samples: dict[str, dict[str, int]] = {}
            for (source, lang), (c, n) in sorted(by_group.items()):
                cuts.setdefault(source, {})[lang] = c
                samples.setdefault(source, {})[lang] = n
            return {"mode": "top_fraction", "fraction": select.fraction, "cutoffs": cuts, "samples": samples}

        return (
            docs
            | "ReferenceEntries" >> beam.FlatMap(sample_entry)
            | "ReferenceSample" >> beam.combiners.Top.SmallestPerKey(select.reference_size)
            | "Percentile" >> beam.FlatMap(cutoff)
            | "ByGroup" >> beam.combiners.ToDict()
            | "Nest" >> beam.Map(nest)
        )


class MarkCutoff:
    """Annotator for a chain whose side input is QualityCutoffs' result. top_fraction: scored
    documents carry their group's cutoff as scores[CUTOFF], so the gate decides one document at
    a time; other modes: unchanged."""

    stage_id = MARK_STAGE

    def __init__(self, cfg: QualityClassifierConfig):
        self._mode = cfg.select.mode

    def setup(self) -> None:
        pass

    def annotate(self, docs: list[Document], found: dict[str, Any]) -> list[Document]:
        if self._mode != "top_fraction":
            return list(docs)
        out = []
        for doc in docs:
            cut = found["cutoffs"].get(doc.source, {}).get(doc.lang or "unknown") if SCORE in doc.scores else None
            out.append(doc if cut is None else doc.with_scores({CUTOFF: cut}))
        return out


class MarkCutoffs(beam.PTransform):
    """docs -> docs marked by MarkCutoff, one at a time (outside a chain)."""

    def __init__(self, cfg: QualityClassifierConfig, cutoffs):
        super().__init__()
        self._marker = MarkCutoff(cfg)
        self._cutoffs = cutoffs

    def expand(self, docs):
        marker = self._marker
        return docs | "MarkCutoffs" >> beam.Map(lambda d, found: marker.annotate([d], found)[0], beam.pvalue.AsSingleton(self._cutoffs))


class QualityClassifierGate:
    """Gate: on `apply` sources, keeps what the selection rule keeps; the detail names the score and the rule."""

    stage_id = FILTER_STAGE

    def __init__(self, cfg: QualityClassifierConfig, seed: int):
        self._apply = frozenset(cfg.apply)
        self._select = cfg.select
        self._seed = seed

    def setup(self) -> None:
        pass

    def check(self, doc: Document) -> Verdict:
        if doc.source not in self._apply:
            return KEEP
        score = doc.scores.get(SCORE)
        if score is None:  # the run trained no model (too few examples): counted, kept
            return Verdict(skipped=("no_model",))
        select = self._select
        if select.mode == "threshold":
            if score < select.threshold:
                return Verdict(ClassifierReason.BELOW_THRESHOLD, f"score={score:.3f} < threshold {select.threshold:g}")
            return KEEP
        if select.mode == "top_fraction":
            if select.fraction >= 1.0:
                return KEEP
            cutoff = doc.scores.get(CUTOFF)
            if cutoff is None:  # fewer than min_reference scored documents in its (source, language)
                return Verdict(skipped=("no_cutoff",))
            if score < cutoff:
                where = f"{doc.source}/{doc.lang or 'unknown'}"
                return Verdict(ClassifierReason.BELOW_CUTOFF, f"score={score:.3f} < cutoff {cutoff:.3f} (top {select.fraction:.2f} of {where})")
            return KEEP
        kept, draw = pareto_keeps(score, self._seed, doc.id, select.alpha)
        if not kept:
            return Verdict(ClassifierReason.PARETO, f"score={score:.3f}: pareto({select.alpha:g}) draw {draw:.3f} <= 1 - score")
        return KEEP


class ClassifierModel(NamedTuple):
    model_bytes: Any  # singleton PCollection of the trained model's bytes; None with a given model
    facts: dict[str, Any]  # {"quality_classifier": singleton} with a given model, else {}
    to_write: dict[str, Any]  # {"quality_classifier": singleton (bytes, facts)} of a trained model, else {}


def reads_before(cfg: PipelineConfig) -> str:
    """A classifier trained in the run takes its negatives from raw web before any quality gate
    (GPT-3, DCLM): it reads the documents as they were before the quality stage."""
    qc = cfg.quality_classifier
    return "quality" if qc.enabled and not qc.model else ""


def build(graph, cfg: PipelineConfig) -> None:
    """Registry builder: the model (given, or trained in the run), scores, the cutoffs from every
    score, then the selection, each chain after the corpus-level step it needs."""
    from pipeline.stages.quality_classifier_train import QualityClassifierModel  # it imports this module

    qc = cfg.quality_classifier
    if not qc.enabled:
        return
    trains = reads_before(cfg) == "quality"
    model = (graph.before("quality") if trains else graph.docs()) | "QualityClassifierModel" >> QualityClassifierModel(qc, cfg.seed)
    graph.out.models.update(model.to_write)
    graph.out.facts.update(model.facts)
    scorer = ScoreQualityWithTrainedModel(qc) if trains else ScoreQuality(qc)
    graph.chain("QualityClassifierScore", [Step(scorer, qc.batch_size)], side=model.model_bytes)
    selection = graph.docs() | "QualityClassifierCutoffs" >> QualityCutoffs(qc, cfg.seed)
    graph.out.facts["quality_classifier_cutoffs"] = selection
    graph.chain("QualityClassifierSelect", [Step(MarkCutoff(qc), qc.batch_size), Step(QualityClassifierGate(qc, cfg.seed))], side=selection)
