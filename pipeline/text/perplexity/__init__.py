from dataclasses import dataclass, field
from typing import Literal

from pipeline.settings import check

BUCKETS = ("head", "middle", "tail")


@dataclass(frozen=True, kw_only=True)
class PerplexityConfig:
    """KenLM perplexity as CCNet (Wenzek et al. 2020) computes it, and its head/middle/tail buckets."""

    enabled: bool = True
    # Language -> KenLM model (binary or ARPA; local or any Beam filesystem path), added to the
    # shipped en/fr/es models (pipeline/text/perplexity/models/README.md); a language given here
    # replaces the shipped model of that language. Documents in languages without a model pass
    # unscored and are counted (skipped rule no_model).
    models: dict[str, str] = field(default_factory=dict)
    shipped_models: bool = True  # false: only `models` are used
    # A model needs the .json record pipeline.lm.train writes beside it (how its text was
    # prepared): scored otherwise, its numbers look right and mean nothing. true: accept models
    # without one (CCNet's released models) with a warning naming each.
    allow_unrecorded: bool = False
    # Language -> SentencePiece model, for KenLM models trained on pieces, as CCNet's released
    # {lang}.arpa.bin / {lang}.sp.model pairs are: that language's text is then prepared as
    # CCNet prepares it (needs the sentencepiece package: the [ccnet] extra).
    sentencepiece: dict[str, str] = field(default_factory=dict)
    exempt_sources: list[str] = field(default_factory=lambda: ["code"])  # never scored
    # Scored documents of these sources are bucketed and gated; the others only get the score.
    # CCNet's buckets are a web-crawl method: books or hand-picked sources would lose 40% to a
    # cut made for crawled pages.
    gate_sources: list[str] = field(default_factory=lambda: ["web"])
    # run: cut at `percentiles` of this run's own perplexities per language (CCNet computed its
    # cutoffs from a sample of the same crawl); fixed: `cutoffs` per language (e.g. CCNet's
    # cutoff.csv); off: no buckets, only max_perplexity.
    buckets: Literal["run", "fixed", "off"] = "run"
    percentiles: list[float] = field(default_factory=lambda: [30.0, 60.0])  # CCNet's head | middle | tail
    cutoffs: dict[str, list[float]] = field(default_factory=dict)  # lang -> [head max, middle max]
    keep: list[str] = field(default_factory=lambda: ["head", "middle"])  # RedPajama-1 kept head + middle
    max_perplexity: dict[str, float] = field(default_factory=dict)  # lang ("*": any) -> hard maximum
    reference_size: int = 100_000  # documents per language sampled (by id hash) to find the percentiles
    min_reference: int = 50  # a language with fewer scored documents gets no buckets (counted)
    batch_size: int = 64

    def __post_init__(self):
        key = "perplexity"
        check(
            len(self.percentiles) == 2 and 0 < self.percentiles[0] < self.percentiles[1] < 100,
            f"{key}.percentiles",
            f"must be two increasing values in (0, 100), got {self.percentiles}",
        )
        for lang, cuts in self.cutoffs.items():
            check(
                len(cuts) == 2 and 0 < cuts[0] <= cuts[1],
                f"{key}.cutoffs.{lang}",
                f"must be [head max, middle max] with 0 < head <= middle, got {cuts}",
            )
        check(self.buckets != "fixed" or bool(self.cutoffs), f"{key}.cutoffs", "buckets: fixed needs cutoffs per language")
        for i, bucket in enumerate(self.keep):
            check(bucket in BUCKETS, f"{key}.keep[{i}]", f"unknown bucket {bucket!r} (known: {', '.join(BUCKETS)})")
        for lang, value in self.max_perplexity.items():
            check(value > 0, f"{key}.max_perplexity.{lang}", f"must be > 0, got {value}")
        check(self.reference_size >= 100, f"{key}.reference_size", "must be >= 100")
        check(self.min_reference >= 2, f"{key}.min_reference", "must be >= 2")
        check(1 <= self.batch_size <= 100_000, f"{key}.batch_size", "must be in [1, 100000]")
        for lang, path in self.models.items():
            check(bool(path), f"{key}.models.{lang}", "must be a path")
        for lang in self.sentencepiece:
            check(lang in self.models, f"{key}.sentencepiece.{lang}", "has no KenLM model in perplexity.models")
        check(
            not self.enabled or self.shipped_models or bool(self.models),
            f"{key}.models",
            "is empty and shipped_models is false: no model to score with (or set enabled: false)",
        )
