"""Gopher repetition rules (Rae et al. 2021, Table A1): repeated lines, paragraphs and n-grams."""

import re
from dataclasses import dataclass, field

from pipeline.records import Reason
from pipeline.settings import check
from pipeline.text.quality.ngrams import ngram_repetition_batch
from pipeline.text.quality.rules import Bound, Rule
from pipeline.text.quality.view import TextView


@dataclass(frozen=True, kw_only=True)
class GopherRepetitionConfig:
    """Gopher repetition filter: the thresholds of Rae et al. 2021, Table A1."""

    max_dup_line_frac: float | None = 0.30
    max_dup_para_frac: float | None = 0.30
    max_dup_line_char_frac: float | None = 0.20
    max_dup_para_char_frac: float | None = 0.20
    # Characters in the most frequent n-gram, as a share of all characters, n = 2, 3, 4.
    max_top_ngram_char_frac: dict[int, float] = field(default_factory=lambda: {2: 0.20, 3: 0.18, 4: 0.16})
    # Characters in repeated n-grams, as a share of all characters, n = 5..10.
    max_dup_ngram_char_frac: dict[int, float] = field(default_factory=lambda: {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10})
    # Table A1 measures repetition, so a top n-gram that occurs once counts as 0 here. datatrove
    # counts it anyway, which rejects every short document (its one bigram is "most frequent");
    # true reproduces datatrove.
    top_ngram_counts_unrepeated: bool = False

    def __post_init__(self):
        for key in ("max_dup_line_frac", "max_dup_para_frac", "max_dup_line_char_frac", "max_dup_para_char_frac"):
            value = getattr(self, key)
            check(value is None or 0.0 <= value <= 1.0, f"quality.gopher_repetition.{key}", f"must be in [0, 1], got {value}")
        for key in ("max_top_ngram_char_frac", "max_dup_ngram_char_frac"):
            for n, value in getattr(self, key).items():
                check(1 <= n <= 20, f"quality.gopher_repetition.{key}.{n}", "n must be in [1, 20]")
                check(0.0 <= value <= 1.0, f"quality.gopher_repetition.{key}.{n}", f"must be in [0, 1], got {value}")


STAGE_ID = "quality.gopher_repetition.v1"
# datatrove's "\n{2,}" and "\n+", with CRLF line ends too: with "\n" alone, a CRLF text has no
# paragraph break and each of its blank lines is a "\r" line, repeated, so it fails dup_lines.
_PARAGRAPHS = re.compile(r"(?:\r?\n){2,}")
_LINES = re.compile(r"[\r\n]+")
# The same splits for text without "\r" (nearly all): a pattern that starts with a literal lets
# re jump from newline to newline; the paragraph split runs 12x faster.
_PARAGRAPHS_LF = re.compile(r"\n\n+")
_LINES_LF = re.compile(r"\n+")


class GopherRepetitionReason(Reason):
    DUP_LINES = "gopher_dup_lines"
    DUP_PARAGRAPHS = "gopher_dup_paragraphs"
    DUP_LINE_CHARS = "gopher_dup_line_chars"
    DUP_PARAGRAPH_CHARS = "gopher_dup_paragraph_chars"
    TOP_NGRAM = "gopher_top_ngram"
    DUP_NGRAMS = "gopher_dup_ngrams"


R = GopherRepetitionReason


def rules(cfg: GopherRepetitionConfig) -> list[Rule]:
    # The order datatrove checks them in, so the first failing reason matches its.
    out = [
        Rule("dup_para_frac", "max_dup_para_frac", Bound.MAX, R.DUP_PARAGRAPHS),
        Rule("dup_para_char_frac", "max_dup_para_char_frac", Bound.MAX, R.DUP_PARAGRAPH_CHARS),
        Rule("dup_line_frac", "max_dup_line_frac", Bound.MAX, R.DUP_LINES),
        Rule("dup_line_char_frac", "max_dup_line_char_frac", Bound.MAX, R.DUP_LINE_CHARS),
    ]
    out += [Rule(f"top_{n}gram_char_frac", f"max_top_ngram_char_frac.{n}", Bound.MAX, R.TOP_NGRAM) for n in sorted(cfg.max_top_ngram_char_frac)]
    out += [Rule(f"dup_{n}gram_char_frac", f"max_dup_ngram_char_frac.{n}", Bound.MAX, R.DUP_NGRAMS) for n in sorted(cfg.max_dup_ngram_char_frac)]
    return out


class Thresholds:
    """The config seen as flat settings, so the generic rule evaluator reads a per-n threshold by
    its config path ("max_top_ngram_char_frac.2"), which is also how a skipped rule is named."""

    def __init__(self, cfg: GopherRepetitionConfig):
        self._cfg = cfg
        for n, value in cfg.max_top_ngram_char_frac.items():
            setattr(self, f"max_top_ngram_char_frac.{n}", value)
        for n, value in cfg.max_dup_ngram_char_frac.items():
            setattr(self, f"max_dup_ngram_char_frac.{n}", value)

    def __getattr__(self, name):
        if name.startswith("_"):  # pickling looks up dunders before __init__ has run
            raise AttributeError(name)
        return getattr(self._cfg, name)


def _duplicates(parts: list[str]) -> tuple[int, int]:
    """(elements seen before, their characters), scanning in order."""
    seen: set[str] = set()
    count = chars = 0
    for part in parts:
        if part in seen:
            count += 1
            chars += len(part)
        else:
            seen.add(part)
    return count, chars


def signals_batch(views: list[TextView], cfg: GopherRepetitionConfig) -> list[dict[str, float]]:
    """Signals of each document; the n-gram measures of the whole batch come from one numpy pass."""
    out = [_line_signals(view) for view in views]
    # Without word segmentation an n-gram would be n characters, a much shorter unit than the n
    # words Table A1's thresholds were set for: no definition for CJK, so skipped and counted.
    spaced = [i for i, view in enumerate(views) if not view.cjk]
    measures = ngram_repetition_batch(
        [views[i].tokens for i in spaced],
        tuple(cfg.max_top_ngram_char_frac),
        tuple(cfg.max_dup_ngram_char_frac),
        top_min_count=1 if cfg.top_ngram_counts_unrepeated else 2,
    )
    for i, (top, dup) in zip(spaced, measures):
        n_chars = max(len(views[i].text), 1)
        out[i].update({f"top_{n}gram_char_frac": chars / n_chars for n, chars in top.items()})
        out[i].update({f"dup_{n}gram_char_frac": chars / n_chars for n, chars in dup.items()})
    return out


def _line_signals(view: TextView) -> dict[str, float]:
    text = view.text
    n_chars = max(len(text), 1)
    lf_only = "\r" not in text
    paragraphs = (_PARAGRAPHS_LF if lf_only else _PARAGRAPHS).split(text.strip())
    lines = (_LINES_LF if lf_only else _LINES).split(text)
    para_dups, para_dup_chars = _duplicates(paragraphs)
    line_dups, line_dup_chars = _duplicates(lines)
    return {
        "dup_para_frac": para_dups / len(paragraphs),
        "dup_para_char_frac": para_dup_chars / n_chars,
        "dup_line_frac": line_dups / len(lines),
        "dup_line_char_frac": line_dup_chars / n_chars,
    }
