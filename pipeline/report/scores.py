"""Which scores the report histograms, in which bins, against which configured thresholds.

The stages declare their scores (pipeline.stages.registry, ScoreSpec rows): the annotating step
after which each is counted (so a document later rejected is in the distribution), fixed bins
over the score's natural range, and the config settings drawn on it as threshold lines. Fixed
bins make the histogram a plain CombinePerKey(sum) of ((score, language or "*", bin), 1): exact,
mergeable across workers, the same on every runner. Values outside the range are counted in the
end bins. This module reads the declarations only: it imports no stage module.

Thresholds are dotted paths into {"config": the run's config, "facts": what stages learned};
"{lang}" is the histogram's language, "{n}" the n of an n-gram score, and a path ending in ".*"
draws one line per entry of a mapping (per-language thresholds). A setting that is null (the
rule is off) draws nothing. tests/test_registry.py checks that every score a stage writes is declared.
"""

import functools
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np

from pipeline.stages import registry
from pipeline.stages.spec import COUNT_LOG, FLAG, FRACTION, LANG_SCORE, Bins, integers, linear, log
from pipeline.stages.spec import ScoreSpec as Score

__all__ = ["ALL", "COUNT_LOG", "FLAG", "FRACTION", "LANG_SCORE", "SCORES", "SECTIONS", "Bins", "Score", "integers", "linear", "log"]

ALL = "*"  # the language key of a histogram over every language
SCORES: tuple[Score, ...] = registry.scores()
SECTIONS = registry.report_sections()  # (score key prefix, heading) of each group of histograms, in page order

_EXACT = {s.key: s for s in SCORES if "{n}" not in s.key}
_PATTERNS = [(re.compile(re.escape(s.key).replace(r"\{n\}", r"(\d+)") + "$"), s) for s in SCORES if "{n}" in s.key]


@functools.lru_cache(maxsize=4096)  # a run has a few dozen keys; binning looks each up per document
def spec_for(key: str) -> tuple[Score, dict[str, str]] | None:
    """The table row of a score key and its pattern fields ({"n": "2"}); None if not in the table."""
    spec = _EXACT.get(key)
    if spec is not None:
        return spec, {}
    for pattern, spec in _PATTERNS:
        m = pattern.match(key)
        if m:
            return spec, {"n": m.group(1)}
    return None


def order(key: str) -> int:
    """Position of a score key's row in the table, for a stable page order."""
    found = spec_for(key)
    return SCORES.index(found[0]) if found else len(SCORES)


def binned(doc, step: str) -> Iterator[tuple[tuple[str, str, int], int]]:
    """((score key, language or "*", bin), 1) for each score of `doc` counted after `step`."""
    values = [(LANG_SCORE, doc.lang_score)] if step == registry.IDENTIFY_STAGE and doc.lang_score is not None else []
    values += doc.scores.items()
    for key, value in values:
        found = spec_for(key)
        if found is None or found[0].step != step or found[0].bins is None:
            continue
        spec = found[0]
        i = spec.bins.index(float(value))
        if i is not None:
            group = doc.source if spec.per_source else (doc.lang or "unknown") if spec.per_language else ALL
            yield (key, group, i), 1


def count_bins(docs: list, step: str) -> dict[tuple[str, str, int], int]:
    """The sum of binned() over a batch of documents: the same counts, binned one score key at a
    time over the whole batch (Bins.indices) instead of one (document, score) pair at a time:
    that took 6% of the first chain's time on the 10 MB benchmark corpus, this takes 2.5%."""
    columns: list[tuple[str, Score, list]] = []
    if step == registry.IDENTIFY_STAGE:
        found = spec_for(LANG_SCORE)
        if found is not None and found[0].step == step and found[0].bins is not None:
            columns.append((LANG_SCORE, found[0], [doc.lang_score for doc in docs]))
    for key in sorted(set().union(*(doc.scores.keys() for doc in docs))):
        found = spec_for(key)
        if found is not None and found[0].step == step and found[0].bins is not None:
            columns.append((key, found[0], [doc.scores.get(key) for doc in docs]))
    counts: dict[tuple[str, str, int], int] = {}
    for key, spec, values in columns:
        present = [i for i, v in enumerate(values) if v is not None]
        if not present:
            continue
        bins = spec.bins.indices(np.array([float(values[i]) for i in present], dtype=np.float64)).tolist()
        if spec.per_source:
            groups = [docs[i].source for i in present]
        elif spec.per_language:
            groups = [docs[i].lang or "unknown" for i in present]
        else:
            groups = [ALL] * len(present)
        for (group, i), n in Counter(zip(groups, bins)).items():
            if i >= 0:
                counts[(key, group, i)] = n
    return counts


def thresholds(spec: Score, fields: dict[str, str], lang: str, root: dict[str, Any]) -> list[tuple[float, str]]:
    """(value, label) of each threshold line drawn on the histogram of (spec, lang)."""
    out: list[tuple[float, str]] = []
    for template in spec.thresholds:
        path = template.format(lang=lang, source=lang, **fields)  # `lang`: the histogram's group, a source if per_source
        wildcard = path.endswith(".*")
        value = _lookup(root, path[:-2] if wildcard else path)
        setting = path.split(".")[-2] if wildcard else path.rsplit(".", 1)[-1]
        if wildcard:
            entries = sorted((str(k), v) for k, v in (value or {}).items())
            if spec.per_language:  # the language's own entry, else the one for any language ("*")
                entries = [e for e in entries if e[0] == lang] or [e for e in entries if e[0] == ALL]
            for k, v in entries:
                out += _lines(v, f"{setting}.{k}")
        else:
            out += _lines(value, _label(path))
    return out


def _label(path: str) -> str:
    parts = path.split(".")
    if parts[0] == "facts":  # facts.perplexity_cutoffs.en.cutoffs -> perplexity cutoffs
        return "cutoff"
    if parts[-1].isdigit():  # max_top_ngram_char_frac.2
        return f"{parts[-2]}.{parts[-1]}"
    return parts[-1]


def _lines(value: Any, label: str) -> list[tuple[float, str]]:
    if value is None or value is False:
        return []
    if value is True:  # a forbidden flag: 1 is rejected
        return [(0.5, f"{label}: 1 is rejected")]
    if isinstance(value, (list, tuple)):
        names = ("head | middle", "middle | tail") if len(value) == 2 and label == "cutoff" else [label] * len(value)
        return [(float(v), f"{name} {number(v)}") for v, name in zip(value, names)]
    return [(float(value), f"{label} {number(value)}")]


def number(v: float) -> str:
    """100000 -> 100,000; 0.65 -> 0.65; 1454.27 -> 1,454."""
    v = float(v)
    return f"{int(v):,}" if v.is_integer() and abs(v) < 1e15 else f"{v:,.4g}"


def _lookup(root: dict[str, Any], path: str) -> Any:
    node: Any = root
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        # Config dicts keyed by int (n-gram sizes) appear with str keys once read back from JSON.
        node = node.get(part, node.get(int(part)) if part.isdigit() else None)
    return node
