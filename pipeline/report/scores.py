"""Which scores the report histograms, in which bins, against which configured thresholds.

One table (SCORES), one row per score: the annotating step after which it is counted (so a
document later rejected is in the distribution), fixed bins over the score's natural range, and
the config settings drawn on it as threshold lines. Fixed bins make the histogram a plain
CombinePerKey(sum) of ((score, language or "*", bin), 1): exact, mergeable across workers, the
same on every runner. Values outside the range are counted in the end bins.

Thresholds are dotted paths into {"config": the run's config, "facts": what stages learned};
"{lang}" is the histogram's language, "{n}" the n of an n-gram score, and a path ending in ".*"
draws one line per entry of a mapping (per-language thresholds). A setting that is null (the
rule is off) draws nothing. tests/test_report.py checks that every quality rule's setting is here.
"""

import functools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pipeline.stages.language import IDENTIFY_STAGE
from pipeline.stages.perplexity import PERPLEXITY
from pipeline.stages.perplexity import SCORE_STAGE as PERPLEXITY_STAGE
from pipeline.stages.quality import CLEAN_STAGE, SIGNALS_STAGE
from pipeline.stages.quality_classifier import SCORE as CLASSIFIER_SCORE
from pipeline.stages.quality_classifier import SCORE_STAGE as CLASSIFIER_STAGE
from pipeline.stages.substring_dedup import CHARS_REMOVED as SUBSTRING_CHARS
from pipeline.stages.substring_dedup import REMOVED_FRACTION as SUBSTRING_FRACTION
from pipeline.stages.substring_dedup import SUBSTRING_STAGE
from pipeline.stages.toxicity import DENSITY, MATCHES, PROB
from pipeline.stages.toxicity import SCORE_STAGE as TOXICITY_STAGE
from pipeline.text.extract import EXTRACT_STAGE
from pipeline.text.pii import PII_STAGE
from pipeline.text.quality import c4, code, fineweb, gopher_quality, gopher_repetition

LANG_SCORE = "lang_score"  # Document.lang_score, not a key of Document.scores
ALL = "*"  # the language key of a histogram over every language


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


@dataclass(frozen=True)
class Score:
    key: str  # a Document.scores key ("{n}": any n-gram size), or LANG_SCORE
    title: str
    step: str  # the annotating step (stage id) after which the score is counted
    bins: Bins
    thresholds: tuple[str, ...] = ()  # dotted paths, see the module docstring
    per_language: bool = False  # one histogram per language instead of one over all
    per_source: bool = False  # one histogram per source ("{source}" in a threshold path)
    note: str = ""


def _q(family_stage: str, signal: str) -> str:
    return f"{family_stage}:{signal}"


_GR, _GQ, _C4, _FW, _CODE = gopher_repetition.STAGE_ID, gopher_quality.STAGE_ID, c4.STAGE_ID, fineweb.STAGE_ID, code.STAGE_ID
_R, _QL, _C, _F, _K = (f"config.quality.{f}." for f in ("gopher_repetition", "gopher_quality", "c4", "fineweb", "code"))

SCORES: tuple[Score, ...] = (
    # Web pages (WARC responses): what extraction left, and what redaction replaced.
    Score(
        f"{EXTRACT_STAGE}:chars",
        "characters extracted from the HTML",
        EXTRACT_STAGE,
        COUNT_LOG,
        ("config.extract.min_chars",),
        note="pages read from WARC responses",
    ),
    Score(f"{PII_STAGE}:emails", "email addresses redacted", PII_STAGE, integers(0, 20), note="pii.apply sources"),
    Score(f"{PII_STAGE}:ips", "public IP addresses redacted", PII_STAGE, integers(0, 20), note="pii.apply sources"),
    Score(
        LANG_SCORE,
        "language confidence (fastText lid.176)",
        IDENTIFY_STAGE,
        FRACTION,
        ("config.language.threshold", "config.language.thresholds.*"),
        note="every document read; code is exempt from the gate (language.exempt_sources)",
    ),
    # Gopher repetition (Rae et al. 2021, Table A1): shares of the text in repeated units.
    Score(_q(_GR, "dup_para_frac"), "duplicate paragraphs (share of paragraphs)", SIGNALS_STAGE, FRACTION, (_R + "max_dup_para_frac",)),
    Score(_q(_GR, "dup_para_char_frac"), "characters in duplicate paragraphs", SIGNALS_STAGE, FRACTION, (_R + "max_dup_para_char_frac",)),
    Score(_q(_GR, "dup_line_frac"), "duplicate lines (share of lines)", SIGNALS_STAGE, FRACTION, (_R + "max_dup_line_frac",)),
    Score(_q(_GR, "dup_line_char_frac"), "characters in duplicate lines", SIGNALS_STAGE, FRACTION, (_R + "max_dup_line_char_frac",)),
    Score(
        _q(_GR, "top_{n}gram_char_frac"), "characters in the most frequent {n}-gram", SIGNALS_STAGE, FRACTION, (_R + "max_top_ngram_char_frac.{n}",)
    ),
    Score(_q(_GR, "dup_{n}gram_char_frac"), "characters in repeated {n}-grams", SIGNALS_STAGE, FRACTION, (_R + "max_dup_ngram_char_frac.{n}",)),
    # Gopher quality.
    Score(_q(_GQ, "word_count"), "words", SIGNALS_STAGE, COUNT_LOG, (_QL + "min_words", _QL + "max_words")),
    Score(
        _q(_GQ, "mean_word_length"),
        "mean word length (characters)",
        SIGNALS_STAGE,
        linear(0.0, 20.0, 40),
        (_QL + "min_mean_word_length", _QL + "max_mean_word_length"),
    ),
    Score(_q(_GQ, "hash_ratio"), "'#' per word", SIGNALS_STAGE, linear(0.0, 0.5, 50), (_QL + "max_hash_ratio",)),
    Score(_q(_GQ, "ellipsis_ratio"), "ellipses per word", SIGNALS_STAGE, linear(0.0, 0.5, 50), (_QL + "max_ellipsis_ratio",)),
    Score(_q(_GQ, "bullet_lines"), "lines starting with a bullet", SIGNALS_STAGE, FRACTION, (_QL + "max_bullet_lines",)),
    Score(_q(_GQ, "end_ellipsis_lines"), "lines ending with an ellipsis", SIGNALS_STAGE, FRACTION, (_QL + "max_end_ellipsis_lines",)),
    Score(_q(_GQ, "alpha_words"), "words with a letter", SIGNALS_STAGE, FRACTION, (_QL + "min_alpha_words",)),
    Score(_q(_GQ, "stop_words"), "distinct stop words", SIGNALS_STAGE, integers(0, 30), (_QL + "min_stop_words",)),
    # C4, after its line cleaning.
    Score(_q(_C4, "sentences"), "sentences after cleaning", CLEAN_STAGE, integers(0, 50), (_C + "min_sentences",)),
    Score(_q(_C4, "lorem_ipsum"), "'lorem ipsum' present", CLEAN_STAGE, FLAG, (_C + "forbid_lorem_ipsum",)),
    Score(_q(_C4, "curly_bracket"), "'{' present", CLEAN_STAGE, FLAG, (_C + "forbid_curly_bracket",)),
    Score(_q(_C4, "lines_removed"), "lines removed by cleaning", CLEAN_STAGE, integers(0, 50)),
    Score(_q(_C4, "chars_removed"), "characters removed by cleaning", CLEAN_STAGE, COUNT_LOG),
    # FineWeb, on the cleaned text.
    Score(_q(_FW, "line_punct_ratio"), "lines ending in terminal punctuation", CLEAN_STAGE, FRACTION, (_F + "min_line_punct_ratio",)),
    Score(_q(_FW, "short_line_ratio"), "short lines", CLEAN_STAGE, FRACTION, (_F + "max_short_line_ratio",)),
    Score(_q(_FW, "dup_line_char_ratio"), "characters in duplicate lines", CLEAN_STAGE, linear(0.0, 0.25, 50), (_F + "max_dup_line_char_ratio",)),
    Score(_q(_FW, "list_ratio"), "newlines per word", CLEAN_STAGE, FRACTION, (_F + "max_list_ratio",)),
    # Code (StarCoder, The Stack).
    Score(_q(_CODE, "mean_line_length"), "mean line length", SIGNALS_STAGE, linear(0.0, 200.0, 50), (_K + "max_mean_line_length",)),
    Score(_q(_CODE, "max_line_length"), "longest line", SIGNALS_STAGE, log(1.0, 1e5, 50), (_K + "max_line_length",)),
    Score(_q(_CODE, "alnum_fraction"), "alphanumeric characters", SIGNALS_STAGE, FRACTION, (_K + "min_alnum_fraction",)),
    Score(_q(_CODE, "autogenerated"), "auto-generated marker", SIGNALS_STAGE, FLAG, (_K + "forbid_autogenerated",)),
    Score(_q(_CODE, "data_line_fraction"), "data-only lines", SIGNALS_STAGE, FRACTION, (_K + "max_data_line_fraction",)),
    Score(_q(_CODE, "encoded_fraction"), "characters in encoded runs", SIGNALS_STAGE, FRACTION, (_K + "max_encoded_fraction",)),
    # Exact-substring dedup: the documents it cut (kept or rejected).
    Score(SUBSTRING_CHARS, "characters cut as repeated spans", SUBSTRING_STAGE, COUNT_LOG, note="documents with a repeated span cut"),
    Score(
        SUBSTRING_FRACTION,
        "share of the characters cut as repeated spans",
        SUBSTRING_STAGE,
        FRACTION,
        ("config.dedup.substring.max_removed_fraction",),
        note="documents with a repeated span cut; above the line: rejected (substring_duplicate)",
    ),
    # Toxicity.
    Score(MATCHES, "word-list matches", TOXICITY_STAGE, integers(0, 30), ("config.toxicity.count_threshold",)),
    Score(
        DENSITY,
        "word-list matches per word",
        TOXICITY_STAGE,
        linear(0.0, 0.1, 50),
        ("config.toxicity.density_threshold",),
        note="documents in a language with a word list",
    ),
    Score(
        PROB,
        "classifier probability (max over paragraphs)",
        TOXICITY_STAGE,
        FRACTION,
        ("config.toxicity.classifier_threshold",),
        note="documents in toxicity.classifier_languages",
    ),
    # Perplexity: per language, against this run's head | middle | tail cutoffs.
    Score(
        PERPLEXITY,
        "KenLM perplexity",
        PERPLEXITY_STAGE,
        log(1.0, 1e6, 60),
        ("facts.perplexity_cutoffs.{lang}.cutoffs", "config.perplexity.max_perplexity.*"),
        per_language=True,
        note="every scored document; the head | middle | tail cutoffs come from, and gate, perplexity.gate_sources only",
    ),
    # Quality classifier: per source, against the threshold or this run's top_fraction cutoff per language.
    Score(
        CLASSIFIER_SCORE,
        "quality classifier score (fastText)",
        CLASSIFIER_STAGE,
        FRACTION,
        ("facts.quality_classifier_cutoffs.cutoffs.{source}.*",),
        per_source=True,
        note="quality_classifier.apply sources; lines: the threshold, or the top_fraction cutoff per language (pareto draws none)",
    ),
)

SECTIONS = (  # heading of each group of histograms: the score key's prefix
    ("extract.", "Web pages"),
    (LANG_SCORE, "Language identification"),
    (_GR + ":", "Quality: Gopher repetition"),
    (_GQ + ":", "Quality: Gopher quality"),
    (_C4 + ":", "Quality: C4"),
    (_FW + ":", "Quality: FineWeb"),
    (_CODE + ":", "Quality: code"),
    (SUBSTRING_STAGE + ":", "Exact-substring dedup"),
    ("toxicity_", "Toxicity"),
    (PERPLEXITY, "Perplexity"),
    (CLASSIFIER_STAGE + ":", "Quality classifier"),
)

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
    values = [(LANG_SCORE, doc.lang_score)] if step == IDENTIFY_STAGE and doc.lang_score is not None else []
    values += doc.scores.items()
    for key, value in values:
        found = spec_for(key)
        if found is None or found[0].step != step:
            continue
        spec = found[0]
        i = spec.bins.index(float(value))
        if i is not None:
            group = doc.source if spec.per_source else (doc.lang or "unknown") if spec.per_language else ALL
            yield (key, group, i), 1


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
