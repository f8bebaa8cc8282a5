"""Runs one document through the quality family the way pipeline/graph.py does (the steps of
pipeline.stages.quality.quality_steps, in order), but without stopping at the first rejection,
so a test can check that a document fails exactly one rule of every family that applies to it."""

import dataclasses
from dataclasses import dataclass

from pipeline.records import Document, Reason
from pipeline.stages.base import Verdict
from pipeline.stages.quality import quality_steps
from pipeline.text.quality import c4, code, fineweb, gopher_quality, gopher_repetition
from pipeline.text.quality.config import QualityConfig
from pipeline.text.quality.rules import evaluate, score_key

MODULES = {
    "gopher_repetition": gopher_repetition,
    "gopher_quality": gopher_quality,
    "c4": c4,
    "fineweb": fineweb,
    "code": code,
}
FAMILY_OF_STAGE = {module.STAGE_ID: family for family, module in MODULES.items()}

# A plausible local news article: passes every rule of every family that web text gets.
ARTICLE = """Riverside library reopens after two years of renovation

The Riverside branch of the city library reopened on Saturday after a renovation that took almost two years and cost far more than first planned. Hundreds of residents queued outside before the doors opened at nine, and some of them had brought their children to see the new reading garden.

The building now has a larger children's section, a quiet study floor and a small recording studio that members can book for free. Staff said the studio was already reserved for most of the coming month, mostly by students and local musicians.

Funding came from a regional grant and from a campaign run by volunteers, who sold second-hand books at weekend markets. The head librarian thanked them in a short speech and said the branch would keep longer opening hours during the exam season.

Some visitors were less enthusiastic. A retired teacher complained that the old wooden shelves had been replaced by metal ones, which she found cold and uninviting. Others pointed out that parking near the entrance is still difficult on market days."""


@dataclass
class Outcome:
    doc: Document  # after C4 line cleaning, with every score
    verdicts: dict[str, Verdict]  # family -> its gate's verdict
    failed_rules: list[tuple[str, str]]  # (family, setting) of every rule that fails on its own

    @property
    def failures(self) -> list[tuple[str, Reason]]:
        """(stage id, reason) of every gate that rejects the document."""
        return [(MODULES[f].STAGE_ID, v.reason) for f, v in self.verdicts.items() if v.reason is not None]

    @property
    def reasons(self) -> list[Reason]:
        return [reason for _, reason in self.failures]

    def score(self, family: str, signal: str) -> float:
        return self.doc.scores[score_key(MODULES[family].STAGE_ID, signal)]


def _rules_and_thresholds(family: str, cfg: QualityConfig):
    if family == "gopher_repetition":
        return gopher_repetition.rules(cfg.gopher_repetition), gopher_repetition.Thresholds(cfg.gopher_repetition)
    return MODULES[family].RULES, getattr(cfg, family)


def run_quality(text: str, lang: str | None = "en", source: str = "web", cfg: QualityConfig | None = None) -> Outcome:
    cfg = cfg or QualityConfig()
    doc = Document(id="doc", text=text, source=source, lang=lang)
    verdicts = {}
    for step in quality_steps(cfg):
        if hasattr(step, "annotate"):
            [doc] = step.annotate([doc])
        else:
            verdicts[FAMILY_OF_STAGE[step.stage_id]] = step.check(doc)
    failed = []
    for family in MODULES:
        if family not in cfg.families_for(source):
            continue
        rules, thresholds = _rules_and_thresholds(family, cfg)
        for rule in rules:
            if evaluate([rule], MODULES[family].STAGE_ID, doc.scores, thresholds)[0] is not None:
                failed.append((family, rule.setting))
    return Outcome(doc, verdicts, failed)


def config_with(family: str, **changes) -> QualityConfig:
    """The default config with some settings of one family replaced."""
    cfg = QualityConfig()
    return dataclasses.replace(cfg, **{family: dataclasses.replace(getattr(cfg, family), **changes)})
