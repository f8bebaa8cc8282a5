"""Toxicity: score with the LDNOOBW word lists and an English classifier, then gate.

docs -> Annotate[ScoreToxicity]   scores: toxicity.score.v1:matches, :density (documents in a
                                  language with a list), :prob (classifier languages)
     -> Filter[ToxicityGate]      rejects at or above the configured thresholds
"""

from pipeline.config import PipelineConfig
from pipeline.records import Document, Reason
from pipeline.stages import registry
from pipeline.stages.base import KEEP, Verdict, WorkerResource
from pipeline.stages.chain import Step
from pipeline.text.toxicity import ToxicityConfig

SCORE_STAGE = registry.TOXICITY_STAGE  # the registry declares every stage id (pipeline.stages.registry)
FILTER_STAGE = registry.TOXICITY_FILTER_STAGE
MATCHES = f"{SCORE_STAGE}:matches"
DENSITY = f"{SCORE_STAGE}:density"
PROB = f"{SCORE_STAGE}:prob"


class ToxicityReason(Reason):
    WORD_COUNT = "toxicity_word_count"
    WORD_DENSITY = "toxicity_word_density"
    CLASSIFIER = "toxicity_classifier"


def _load_matchers():
    from pipeline.text.toxicity.wordlists import load_matchers

    return load_matchers()  # 27 compiled matchers, well under a second


def _load_classifier(mode: str):
    from pipeline.text.toxicity.classifier import ProfanityClassifier

    return ProfanityClassifier(mode)


class ScoreToxicity:
    """Annotator: word-list matches for every document with a list for its language; the
    classifier's probability, one call per batch, for the classifier languages. Lists and
    classifier load once per worker process."""

    stage_id = SCORE_STAGE

    def __init__(self, cfg: ToxicityConfig):
        self._exempt = frozenset(cfg.exempt_sources)
        self._classify = frozenset(cfg.classifier_languages) if cfg.classifier_threshold is not None else frozenset()
        self._matchers = WorkerResource(_load_matchers)
        self._classifier = WorkerResource(_load_classifier, cfg.classifier_mode)

    def setup(self) -> None:
        self._matchers.get()
        if self._classify:
            self._classifier.get()

    def annotate(self, docs: list[Document]) -> list[Document]:
        from pipeline.text.toxicity.wordlists import word_count

        matchers = self._matchers.get()
        scores: list[dict[str, float]] = [{} for _ in docs]
        to_classify = []
        for i, doc in enumerate(docs):
            if doc.source in self._exempt:
                continue
            matcher = matchers.get(doc.lang or "")
            if matcher is not None:
                matches = matcher.matches(doc.text)
                words = word_count(doc.text, doc.lang)
                scores[i] = {MATCHES: float(matches), DENSITY: matches / words if words else 0.0}
            if doc.lang in self._classify:
                to_classify.append(i)
        if to_classify:
            probs = self._classifier.get().predict_prob([docs[i].text for i in to_classify])
            for i, prob in zip(to_classify, probs):
                scores[i][PROB] = float(prob)
        return [doc.with_scores(s) if s else doc for doc, s in zip(docs, scores)]


class ToxicityGate:
    """Gate, on the gated sources: rejects at or above a threshold. A scored document in a
    language without a word list is counted (skipped rule no_word_list), and in a gated source
    judged by the classifier alone, if at all."""

    stage_id = FILTER_STAGE

    def __init__(self, cfg: ToxicityConfig):
        self._exempt = frozenset(cfg.exempt_sources)
        self._gated = frozenset(cfg.gate_sources)
        self._density = cfg.density_threshold
        self._count = cfg.count_threshold
        self._prob = cfg.classifier_threshold

    def setup(self) -> None:
        pass

    def check(self, doc: Document) -> Verdict:
        if doc.source in self._exempt:
            return KEEP
        scores = doc.scores
        matches = scores.get(MATCHES)
        skipped = ("no_word_list",) if matches is None else ()
        if doc.source not in self._gated:
            return Verdict(skipped=skipped)
        prob = scores.get(PROB)
        if self._prob is not None and prob is not None and prob >= self._prob:
            return Verdict(ToxicityReason.CLASSIFIER, f"p={prob:.3f} >= {self._prob:g}", skipped)
        if matches is None:
            return Verdict(skipped=skipped)
        if self._count is not None and matches >= self._count:
            return Verdict(ToxicityReason.WORD_COUNT, f"matches={matches:.0f} >= {self._count}")
        density = scores[DENSITY]
        if self._density is not None and density >= self._density:
            return Verdict(ToxicityReason.WORD_DENSITY, f"matches={matches:.0f} density={density:.4f} >= {self._density:g}")
        return KEEP


def build(graph, cfg: PipelineConfig) -> None:
    """Registry builder: score, then gate, in the running chain."""
    tox = cfg.toxicity
    if tox.enabled:
        graph.add_steps("Toxicity", [Step(ScoreToxicity(tox), tox.batch_size), Step(ToxicityGate(tox))])
