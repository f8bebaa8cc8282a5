"""FineWeb's own quality rules (Penedo et al. 2024, "The FineWeb Datasets", sec. 3.3.3)."""

from dataclasses import dataclass

from pipeline.records import Reason
from pipeline.settings import check
from pipeline.text.punctuation import SENTENCE_TERMINAL_TUPLE
from pipeline.text.quality.rules import Bound, Rule
from pipeline.text.quality.view import TextView


@dataclass(frozen=True, kw_only=True)
class FineWebConfig:
    """FineWeb's own filters (Penedo et al. 2024, sec. 3.3), on the text after C4 line cleaning."""

    min_line_punct_ratio: float | None = 0.12  # lines ending in terminal punctuation
    max_dup_line_char_ratio: float | None = 0.01  # characters in duplicated lines
    max_short_line_ratio: float | None = 0.67  # lines of at most short_line_length characters
    short_line_length: int = 30
    max_list_ratio: float | None = 0.3  # newlines per word

    def __post_init__(self):
        for key in ("min_line_punct_ratio", "max_dup_line_char_ratio", "max_short_line_ratio"):
            value = getattr(self, key)
            check(value is None or 0.0 <= value <= 1.0, f"quality.fineweb.{key}", f"must be in [0, 1], got {value}")
        check(self.short_line_length >= 1, "quality.fineweb.short_line_length", "must be >= 1")


STAGE_ID = "quality.fineweb.v1"


class FineWebReason(Reason):
    FEW_LINES_END_IN_PUNCT = "fineweb_few_lines_end_in_punctuation"
    SHORT_LINES = "fineweb_too_many_short_lines"
    DUP_LINE_CHARS = "fineweb_dup_line_chars"
    LIST_LIKE = "fineweb_list_like"


RULES = [
    Rule("line_punct_ratio", "min_line_punct_ratio", Bound.MIN, FineWebReason.FEW_LINES_END_IN_PUNCT),
    Rule("short_line_ratio", "max_short_line_ratio", Bound.MAX, FineWebReason.SHORT_LINES),
    Rule("dup_line_char_ratio", "max_dup_line_char_ratio", Bound.MAX, FineWebReason.DUP_LINE_CHARS),
    Rule("list_ratio", "max_list_ratio", Bound.MAX, FineWebReason.LIST_LIKE),
]


def signals(view: TextView, cfg: FineWebConfig) -> dict[str, float]:
    text = view.text.replace("\r\n", "\n")  # else a CRLF line ends in "\r", not in punctuation
    lines = [line for line in text.split("\n") if line.strip()]
    n_lines = max(len(lines), 1)
    seen: set[str] = set()
    dup_chars = 0
    for line in lines:
        if line in seen:
            dup_chars += len(line)
        else:
            seen.add(line)
    return {
        "line_punct_ratio": sum(1 for line in lines if line.endswith(SENTENCE_TERMINAL_TUPLE)) / n_lines,
        "short_line_ratio": sum(1 for line in lines if len(line) <= cfg.short_line_length) / n_lines,
        "dup_line_char_ratio": dup_chars / max(len(text) - text.count("\n"), 1),
        "list_ratio": text.count("\n") / max(view.token_count, 1),
    }
