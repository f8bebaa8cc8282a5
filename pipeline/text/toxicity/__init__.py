"""Toxicity signals as pure functions: LDNOOBW word-list matches and alt-profanity-check's
classifier probability (no Beam here)."""

from dataclasses import dataclass, field
from typing import Literal

from pipeline.settings import check


@dataclass(frozen=True, kw_only=True)
class ToxicityConfig:
    """LDNOOBW word lists (28 languages) and alt-profanity-check's English classifier. Every
    threshold rejects at or above it; null switches that test off. Defaults come from
    bench/toxicity_eval.py on offensive vs ordinary fortunes plus benign prose."""

    enabled: bool = True
    exempt_sources: list[str] = field(default_factory=lambda: ["code"])  # neither scored nor gated
    # Scored documents of these sources are gated; the others only get the scores. C4 filtered
    # crawled pages; on Wikipedia leads about sexuality, medicine or history ("sexual", "nazi")
    # and on Austen (the classifier reads "stupid manner" as offensive) a gate drops good text.
    gate_sources: list[str] = field(default_factory=lambda: ["web"])
    # Matches per word. C4 dropped a page on any match of the English list, which drops
    # medical and LGBTQ text disproportionately (Dodge et al. 2021); 0.02 flagged 23% of benign
    # health and sex-education Wikipedia leads (any match: 53%) and no neutral long prose
    # (any match: 31% of Austen chapters) at 0.81 precision.
    density_threshold: float | None = 0.02
    count_threshold: int | None = None  # matches; 1 is C4's rule
    classifier_languages: list[str] = field(default_factory=lambda: ["en"])  # it was trained on English
    # Scored per paragraph, the maximum kept: a whole long page dilutes an offensive passage
    # until the model never fires. 0.9: precision 0.93; 2% of neutral long prose flagged (0.7: 10%).
    classifier_mode: Literal["document", "max_paragraph"] = "max_paragraph"
    classifier_threshold: float | None = 0.9
    batch_size: int = 64

    def __post_init__(self):
        key = "toxicity"
        check(
            self.density_threshold is None or 0.0 < self.density_threshold <= 1.0,
            f"{key}.density_threshold",
            f"must be in (0, 1], got {self.density_threshold}",
        )
        check(self.count_threshold is None or self.count_threshold >= 1, f"{key}.count_threshold", f"must be >= 1, got {self.count_threshold}")
        check(
            self.classifier_threshold is None or 0.0 < self.classifier_threshold <= 1.0,
            f"{key}.classifier_threshold",
            f"must be in (0, 1], got {self.classifier_threshold}",
        )
        check(1 <= self.batch_size <= 100_000, f"{key}.batch_size", "must be in [1, 100000]")
