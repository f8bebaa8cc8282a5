"""What a stage declares: its versioned ids, reasons, config section, scores and how to build it.

Plain data with no import of any stage module or of Beam, so the report and the config read the
declarations (pipeline.stages.registry) without loading a model library. The code a declaration
names ("module:attribute") is imported only when the graph is built or the models are checked.
"""

import importlib
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np


@dataclass(frozen=True)
class Bins:
    """n bins over [lo, hi]: equal widths ("linear"), equal ratios ("log", lo > 0), or one per
    integer lo..hi ("int")."""

    lo: float
    hi: float
    n: int
    scale: Literal["linear", "log", "int"] = "linear"

    def index(self, value: float) -> int | None:
        """The bin of `value`, clamped to the end bins; None for NaN."""
        if math.isnan(value):
            return None
        if math.isinf(value):
            return self.n - 1 if value > 0 else 0
        if self.scale == "int":
            i = math.floor(value + 0.5) - int(self.lo)
        elif self.scale == "log":
            i = math.floor(math.log(value / self.lo) / math.log(self.hi / self.lo) * self.n) if value > 0 else 0
        else:
            i = math.floor((value - self.lo) / (self.hi - self.lo) * self.n)
        return min(max(i, 0), self.n - 1)

    def indices(self, values: np.ndarray) -> np.ndarray:
        """index() of every value of a float64 array at once; -1 for NaN. The same float64
        operations in the same order as index(), so every value lands in the same bin; log bins
        go through math.log one value at a time, as numpy's log may differ in the last bit."""
        if self.scale == "log":
            return np.fromiter((-1 if (i := self.index(v)) is None else i for v in values.tolist()), dtype=np.int64, count=len(values))
        with np.errstate(invalid="ignore"):
            if self.scale == "int":
                x = np.floor(values + 0.5) - int(self.lo)
            else:
                x = np.floor((values - self.lo) / (self.hi - self.lo) * self.n)
            out = np.clip(x, 0, self.n - 1)  # inf lands in the end bins, as in index()
        out[np.isnan(values)] = -1
        return out.astype(np.int64)

    def position(self, value: float) -> float:
        """Where `value` lies on the axis, 0 (left edge) .. 1 (right edge), unclamped."""
        if self.scale == "int":
            return (value - self.lo + 0.5) / self.n
        if self.scale == "log":
            return math.log(max(value, 1e-300) / self.lo) / math.log(self.hi / self.lo)
        return (value - self.lo) / (self.hi - self.lo)


def linear(lo: float, hi: float, n: int) -> Bins:
    return Bins(lo, hi, n, "linear")


def log(lo: float, hi: float, n: int) -> Bins:
    return Bins(lo, hi, n, "log")


def integers(lo: int, hi: int) -> Bins:
    return Bins(lo, hi, hi - lo + 1, "int")


FRACTION = linear(0.0, 1.0, 50)
FLAG = integers(0, 1)
COUNT_LOG = log(1.0, 1e6, 48)  # 8 bins per decade


LANG_SCORE = "lang_score"  # Document.lang_score: a field of its own, not a key of Document.scores


def score_key(stage_id: str, signal: str) -> str:
    """Every Document.scores key is "<stage id>:<signal>": the stage that wrote it, versioned."""
    return f"{stage_id}:{signal}"


@dataclass(frozen=True)
class ScoreSpec:
    """A score a stage writes, and how the report draws it (pipeline.report.scores)."""

    key: str  # a Document.scores key ("{n}": any n-gram size), or LANG_SCORE
    title: str
    step: str  # the annotating step (stage id) after which the score is counted
    bins: Bins | None  # None: written for a later step of the stage (a bucket, a cutoff), not drawn
    thresholds: tuple[str, ...] = ()  # dotted paths into {"config", "facts"}; see pipeline.report.scores
    per_language: bool = False  # one histogram per language instead of one over all
    per_source: bool = False  # one histogram per source ("{source}" in a threshold path)
    note: str = ""


def resolve(ref: str) -> Any:
    """ "package.module:attribute" -> the attribute, imported now."""
    module, _, attribute = ref.partition(":")
    return getattr(importlib.import_module(module), attribute)


def section_of(cfg: Any, path: str) -> Any:
    """ "dedup.minhash" -> cfg.dedup.minhash (a PipelineConfig, or anything shaped like one)."""
    node = cfg
    for part in path.split("."):
        node = getattr(node, part)
    return node


@dataclass(frozen=True)
class StageSpec:
    """One stage family, as the registry lists it in pipeline order.

    kind "steps": `build` is build(graph: pipeline.stages.flow.StageGraph, cfg: PipelineConfig),
    which adds its per-document steps to the running chain (or runs corpus-level transforms).
    kind "corpus": `build` is factory(section config, keep_text=) -> a transform whose result has
    kept, rejected and optionally skipped and facts; it runs between chains. Both report through
    the StageGraph: rejections, skipped rules, volumes, histograms, facts.
    """

    name: str  # the stage's name in config lists (dedup.methods) and in the registry
    stage_ids: tuple[str, ...]  # versioned ids of the stage's steps: rejections' `stage`, score key prefixes
    reasons: tuple[str, ...]  # "module:Enum" of each Reason enum its rejections carry
    # (dotted path, "module:Dataclass") of each config section the stage owns, the one its build
    # and check read first: pipeline.config assembles PipelineConfig from these. The dataclass
    # lives beside the code it configures, in a module that imports no Beam and no stage module.
    sections: tuple[tuple[str, str], ...]
    build: str  # "module:function", see the kinds above
    kind: Literal["steps", "corpus"] = "steps"
    # kind "steps": stages of one chain group share a chain while nothing corpus-level comes
    # between them; a new group starts a new chain (the model stages, which see the fewest documents).
    chain: str = ""
    build_config: str = ""  # kind "corpus": the config section its factory receives ("": `config`)
    scores: tuple[ScoreSpec, ...] = ()
    # (score key prefix, heading) of its groups of histograms in report.html, in page order.
    report_sections: tuple[tuple[str, str], ...] = ()
    # A config list that selects and orders this stage among its group ("dedup.methods"); "": always built.
    selected_by: str = ""
    enabled: str = ""  # a config bool path that switches the stage on ("": on when selected)
    facts: str = ""  # the stats.json facts name of a corpus stage's `facts` result
    check: str = ""  # "module:function(section config)", run before the pipeline starts (missing models)
    # "module:function(cfg) -> stage name or ''": the stage reads the documents as they were before
    # that stage (the quality classifier trains on raw web), so the chain is split there.
    reads_before: str = ""

    @property
    def config(self) -> str:
        """The dotted path of the section its build and check read, e.g. "dedup.minhash"."""
        return self.sections[0][0]
