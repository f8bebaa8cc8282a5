"""StageGraph: what a stage's builder adds to the graph, and the bookkeeping every stage shares.

graph.apply_stages walks the registry (pipeline.stages.registry) and hands each stage this
object. Per-document steps join the running chain: consecutive ones become one RunChain (one
pass over each batch), labelled by the stages in it ("LanguageAndQuality"). Anything that needs
the whole corpus (dedup, percentiles, a model trained in the run) first closes the chain, so it
sees the chain's kept documents. Rejections, skipped rules, volumes, histograms and facts are
collected here the same way for every stage, dedup included.
"""

from typing import Any, NamedTuple

from pipeline.report import scores as report_scores
from pipeline.report.collect import histogram_counts
from pipeline.stages.chain import RunChain, Step


class StageOutputs(NamedTuple):
    kept: Any  # documents that passed every stage
    rejected: list[Any]  # Rejection collections, one per filter stage
    skipped: list[Any]  # (stage id, rule, lang) collections
    stage_ids: list[str]  # filter stage ids in order
    facts: dict[str, Any]  # name -> singleton collection of what a stage learned, for stats.json
    # For report.html and the progress lines: each chain's counts (a dict per batch: score
    # histograms, gate volumes, skipped rules; pipeline.stages.chain) with its gates' ids.
    chains: list[tuple[list[str], Any]]
    # The stages outside chains: (stage id, documents in, documents kept).
    flow: list[tuple[str, Any, Any]]
    models: dict[str, Any]  # fact name -> singleton (model bytes, facts) of a model trained in the run, to write
    # Histogram counts of the stages outside chains, in the chains' count format (one dict per key).
    histograms: list[Any]


class StageGraph:
    def __init__(self, docs, keep_text: bool):
        self.keep_text = keep_text
        self.out = StageOutputs(kept=None, rejected=[], skipped=[], stage_ids=[], facts={}, chains=[], flow=[], models={}, histograms=[])
        self._docs = docs
        self._pending: list[Step] = []
        self._labels: list[str] = []
        self._before: dict[str, Any] = {}  # stage name -> the documents as they were before it
        self._group = ""

    def start_group(self, group: str) -> None:
        """A stage of chain group `group` comes next: a different group closes the running chain."""
        if group != self._group:
            self.close_chain()
            self._group = group

    def add_steps(self, label: str, steps: list[Step]) -> None:
        """Per-document steps, appended to the running chain; `label` ("" for none) names the chain."""
        self._pending += steps
        if label:
            self._labels.append(label)

    def chain(self, label: str, steps: list[Step], side=None) -> None:
        """A chain of its own (after closing the running one), e.g. one that reads a side input."""
        self.close_chain()
        self._run_chain(label, steps, side)

    def docs(self):
        """The documents so far, after closing the running chain."""
        self.close_chain()
        return self._docs

    def close_chain(self) -> None:
        self._group = ""
        if self._pending:
            steps, label = self._pending, "And".join(self._labels)
            self._pending, self._labels = [], []
            self._run_chain(label, steps)

    def _run_chain(self, label: str, steps: list[Step], side=None) -> None:
        batch_size = max(s.batch_size for s in steps)
        result = self._docs | RunChain(label, steps, batch_size, self.keep_text, report_scores.count_bins, side)
        self.out.rejected.append(result.rejected)
        self.out.stage_ids.extend(result.gates)
        self.out.chains.append((result.gates, result.report))
        self._docs = result.kept

    def corpus_stage(self, stage_id: str, result, facts: str = "", scored: bool = False) -> None:
        """A corpus-level stage's result (kept, rejected, and skipped / facts when it has them)
        becomes the documents; `scored`: it declares scores, histogrammed over what it kept."""
        docs = self.docs()
        self.out.rejected.append(result.rejected)
        if hasattr(result, "skipped"):
            self.out.skipped.append(result.skipped)
        self.out.stage_ids.append(stage_id)
        self.out.flow.append((stage_id, docs, result.kept))
        if facts:
            self.out.facts[facts] = result.facts
        if scored:  # over what it kept, or over every document it scored when it says (substring: kept or rejected)
            counted = getattr(result, "scored", None)
            self.out.histograms.append(histogram_counts(result.kept if counted is None else counted, stage_id))
        self._docs = result.kept

    def mark_before(self, name: str) -> None:
        self._before[name] = self.docs()

    def before(self, name: str):
        """The documents as they were before stage `name` (which mark_before recorded)."""
        return self._before[name]

    def finish(self) -> StageOutputs:
        return self.out._replace(kept=self.docs())
