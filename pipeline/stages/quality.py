"""Heuristic quality filtering: signals first, then one gate per rule family.

    ScoreQuality        Gopher repetition + quality and code signals, one tokenization shared
    gate x2             gopher_repetition, gopher_quality (FineWeb's order)
    CleanC4Lines        C4's line cleaning, in one pass with its signals, rewrites the text of the
                        documents still here; then FineWeb's signals on the cleaned text (as
                        FineWeb measured them)
    gate x3             c4, fineweb, code

C4 is judged after its cleaning ("at least 5 sentences after cleaning"), so a document C4
rejects is recorded with its cleaned text; its scores say how much cleaning removed.

Which families apply to which source is config (`quality.apply`); a family that does not
apply to a document's source passes it without a word.
"""

from pipeline.config import PipelineConfig
from pipeline.records import Document
from pipeline.stages import registry
from pipeline.stages.base import KEEP, Verdict
from pipeline.stages.chain import Step
from pipeline.text.quality import c4, code, fineweb, gopher_quality, gopher_repetition
from pipeline.text.quality.config import QualityConfig
from pipeline.text.quality.rules import CompiledRules, score_key
from pipeline.text.quality.view import TextView

SIGNALS_STAGE = registry.SIGNALS_STAGE  # the registry declares every stage id (pipeline.stages.registry)
CLEAN_STAGE = registry.CLEAN_STAGE


def _prefixed(stage_id: str, signals: dict[str, float]) -> dict[str, float]:
    return {score_key(stage_id, name): value for name, value in signals.items()}


class ScoreQuality:
    """Annotator: the signals of the families that read the original text (all but C4 and FineWeb)."""

    stage_id = SIGNALS_STAGE

    def __init__(self, cfg: QualityConfig):
        self._cfg = cfg

    def setup(self) -> None:
        pass

    def annotate(self, docs: list[Document]) -> list[Document]:
        views = [TextView(d.text, d.lang) for d in docs]
        families = [self._cfg.families_for(d.source) for d in docs]
        scores: list[dict[str, float]] = [{} for _ in docs]
        # Repetition's n-gram measures run over the whole batch at once (pipeline.text.quality.ngrams).
        repetition = [i for i, f in enumerate(families) if "gopher_repetition" in f]
        batch = gopher_repetition.signals_batch([views[i] for i in repetition], self._cfg.gopher_repetition)
        for i, signals in zip(repetition, batch):
            scores[i] |= _prefixed(gopher_repetition.STAGE_ID, signals)
        for doc, view, fams, out in zip(docs, views, families, scores):
            if "gopher_quality" in fams:
                out |= _prefixed(gopher_quality.STAGE_ID, gopher_quality.signals(view))
            if "code" in fams:
                out |= _prefixed(code.STAGE_ID, code.signals(doc.text))
        return [doc.with_scores(s) if s else doc for doc, s in zip(docs, scores)]


class CleanC4Lines:
    """Annotator: C4's signals, and the text replaced by C4's kept lines (when
    quality.c4.clean_lines), in one pass; then FineWeb's signals on the result. How much cleaning
    removed goes into the scores (quality.c4.v1:lines_removed / chars_removed)."""

    stage_id = CLEAN_STAGE

    def __init__(self, cfg: QualityConfig):
        self._cfg = cfg

    def setup(self) -> None:
        pass

    def annotate(self, docs: list[Document]) -> list[Document]:
        return [self._clean(d) for d in docs]

    def _clean(self, doc: Document) -> Document:
        families = self._cfg.families_for(doc.source)
        token_count = None
        if "c4" in families:
            cleaned, signals, token_count = c4.clean_and_count(TextView(doc.text, doc.lang), self._cfg.c4)
            doc = doc.with_scores(_prefixed(c4.STAGE_ID, signals))
            if not self._cfg.c4.clean_lines:
                token_count = None  # the count was of the cleaned text, which is not kept
            elif signals and cleaned != doc.text:
                doc = doc.replace(text=cleaned)
        if "fineweb" in families:
            view = TextView(doc.text, doc.lang, token_count=token_count)
            doc = doc.with_scores(_prefixed(fineweb.STAGE_ID, fineweb.signals(view, self._cfg.fineweb)))
        return doc


class QualityGate:
    """Gate for one family: the first of its rules that the document's signals fail."""

    def __init__(self, family: str, cfg: QualityConfig):
        self._family = family
        self._cfg = cfg
        module = {
            "gopher_repetition": gopher_repetition,
            "gopher_quality": gopher_quality,
            "c4": c4,
            "fineweb": fineweb,
            "code": code,
        }[family]
        self.stage_id = module.STAGE_ID
        if family == "gopher_repetition":
            rules, thresholds = gopher_repetition.rules(cfg.gopher_repetition), gopher_repetition.Thresholds(cfg.gopher_repetition)
        else:
            rules, thresholds = module.RULES, getattr(cfg, family)
        self._rules = CompiledRules(rules, self.stage_id, thresholds)
        self._applies: dict[str, bool] = {}  # source -> does this family run on it

    def setup(self) -> None:
        pass

    def check(self, doc: Document) -> Verdict:
        applies = self._applies.get(doc.source)
        if applies is None:  # once per source: families_for builds a set
            applies = self._applies[doc.source] = self._family in self._cfg.families_for(doc.source)
        if not applies:
            return KEEP
        failed, skipped = self._rules.evaluate(doc.scores)
        if failed is None:
            return Verdict(skipped=tuple(skipped))
        return Verdict(failed[0], failed[1], tuple(skipped))


def quality_steps(cfg: QualityConfig) -> list:
    """The family's annotators and gates in the order they run (see the module docstring)."""
    return [
        ScoreQuality(cfg),
        QualityGate("gopher_repetition", cfg),
        QualityGate("gopher_quality", cfg),
        CleanC4Lines(cfg),
        QualityGate("c4", cfg),
        QualityGate("fineweb", cfg),
        QualityGate("code", cfg),
    ]


def build(graph, cfg: PipelineConfig) -> None:
    """Registry builder: the rule families' steps, in the running chain."""
    quality = cfg.quality
    graph.add_steps("Quality", [Step(s, quality.batch_size if hasattr(s, "annotate") else 0) for s in quality_steps(quality)])
