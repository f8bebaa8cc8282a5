"""fastText quality classification without Beam: text preparation, scoring, deterministic
training, validation figures and the selection rules (GPT-3's Pareto draw, DCLM's top fraction)."""

from dataclasses import dataclass, field

from pipeline.settings import check

QUALITY_CLASSIFIER_MODES = ("threshold", "top_fraction", "pareto")

QUALITY_CLASSIFIER_PREPROCESS = ("newlines_to_spaces", "dclm", "lowercase")


@dataclass(frozen=True, kw_only=True)
class ClassifierSelectConfig:
    """Which scored documents the quality classifier keeps."""

    # threshold: score >= threshold | top_fraction: the top `fraction` of each (source, language)
    # by score, cut at this run's percentile (DCLM, Li et al. 2024, kept the top 10%) | pareto:
    # GPT-3's rule (Brown et al. 2020, App. A): keep when a Pareto(alpha) draw > 1 - score.
    mode: str = "top_fraction"
    threshold: float = 0.5
    fraction: float = 0.1  # DCLM's fastText OH-2.5 + ELI5 classifier: top 10%
    alpha: float = 9.0  # GPT-3's alpha
    reference_size: int = 100_000  # documents per (source, language), smallest id hashes, the cutoff comes from
    min_reference: int = 50  # fewer scored documents in a (source, language): no cutoff there (kept, counted)

    def __post_init__(self):
        key = "quality_classifier.select"
        check(self.mode in QUALITY_CLASSIFIER_MODES, f"{key}.mode", f"unknown mode {self.mode!r} (known: {', '.join(QUALITY_CLASSIFIER_MODES)})")
        check(0.0 <= self.threshold <= 1.0, f"{key}.threshold", f"must be in [0, 1], got {self.threshold}")
        check(0.0 < self.fraction <= 1.0, f"{key}.fraction", f"must be in (0, 1], got {self.fraction}")
        check(self.alpha > 0, f"{key}.alpha", f"must be > 0, got {self.alpha}")
        check(self.reference_size >= 100, f"{key}.reference_size", "must be >= 100")
        check(self.min_reference >= 2, f"{key}.min_reference", "must be >= 2")


@dataclass(frozen=True, kw_only=True)
class ClassifierTrainConfig:
    """The classifier trained in the run when no model is given: reference sources against raw web
    taken before the quality gates (GPT-3; DCLM's RefinedWeb negatives), classes balanced."""

    positive_sources: list[str] = field(default_factory=lambda: ["wiki", "books", "curated", "academic"])
    negative_sources: list[str] = field(default_factory=lambda: ["web"])
    negative_label: str = "__label__cc"  # DCLM's labels: __label__hq vs __label__cc
    max_per_class: int = 100_000  # DCLM's bigram classifier: 200k training documents in all
    min_per_class: int = 20  # fewer of either class: no model, nothing scored (stats.json says why)
    heldout_fraction: float = 0.1  # by id hash: never trained on, the validation figures come from it
    # fastText supervised settings. DCLM: bigrams (wordNgrams 2), else fastText's defaults (lr
    # 0.1, epoch 5, minCount 1). The model is (words seen >= min_count + bucket) x dim float32s:
    # 100 MB on the sample at dim 64 and 200k buckets (fastText's 100 and 2M: 800 MB and more);
    # it travels to every scoring worker, so a large corpus wants a higher min_count.
    word_ngrams: int = 2
    dim: int = 64
    epoch: int = 5
    lr: float = 0.1
    min_count: int = 1
    bucket: int = 200_000
    seed: int = 0  # fastText's own seed; with one thread and hash-ordered text, the same bytes every run

    def __post_init__(self):
        key = "quality_classifier.train"
        check(bool(self.positive_sources), f"{key}.positive_sources", "must name at least one source")
        check(bool(self.negative_sources), f"{key}.negative_sources", "must name at least one source")
        both = sorted(set(self.positive_sources) & set(self.negative_sources))
        check(not both, f"{key}.negative_sources", f"{', '.join(both)} also in positive_sources")
        check(self.negative_label.startswith("__label__"), f"{key}.negative_label", f"must start with __label__, got {self.negative_label!r}")
        check(self.max_per_class >= 1, f"{key}.max_per_class", "must be >= 1")
        check(1 <= self.min_per_class <= self.max_per_class, f"{key}.min_per_class", "must be in [1, max_per_class]")
        check(0.0 < self.heldout_fraction < 1.0, f"{key}.heldout_fraction", f"must be in (0, 1), got {self.heldout_fraction}")
        check(1 <= self.word_ngrams <= 5, f"{key}.word_ngrams", "must be in [1, 5]")
        check(1 <= self.dim <= 1024, f"{key}.dim", "must be in [1, 1024]")
        check(1 <= self.epoch <= 1000, f"{key}.epoch", "must be in [1, 1000]")
        check(0.0 < self.lr <= 10.0, f"{key}.lr", f"must be in (0, 10], got {self.lr}")
        check(self.min_count >= 1, f"{key}.min_count", "must be >= 1")
        check(self.word_ngrams == 1 or self.bucket >= 1, f"{key}.bucket", "must be >= 1 with word_ngrams > 1")


@dataclass(frozen=True, kw_only=True)
class QualityClassifierConfig:
    """A fastText quality classifier (GPT-3, DCLM, FineWeb-Edu): given by path, or trained in the run."""

    enabled: bool = False
    # A fastText supervised model (.bin or .ftz; local or any Beam filesystem path). Empty: train
    # one in the run (train: below) and write it to OUT/models/quality_classifier.bin.
    model: str = ""
    label: str = "__label__hq"  # the score is this label's probability (DCLM's positive label)
    # The text as the model saw it in training: newlines_to_spaces (one line) | dclm (DCLM's
    # " ".join(text.strip().splitlines())) | lowercase (newlines_to_spaces, lower-cased).
    preprocess: str = "newlines_to_spaces"
    apply: list[str] = field(default_factory=lambda: ["web"])  # scored and gated; other sources pass unscored
    batch_size: int = 256  # documents per fastText predict call
    select: ClassifierSelectConfig = field(default_factory=ClassifierSelectConfig)
    train: ClassifierTrainConfig = field(default_factory=ClassifierTrainConfig)

    def __post_init__(self):
        key = "quality_classifier"
        check(self.label.startswith("__label__"), f"{key}.label", f"must start with __label__, got {self.label!r}")
        check(self.label != self.train.negative_label, f"{key}.label", "must differ from train.negative_label")
        check(
            self.preprocess in QUALITY_CLASSIFIER_PREPROCESS,
            f"{key}.preprocess",
            f"unknown preprocessing {self.preprocess!r} (known: {', '.join(QUALITY_CLASSIFIER_PREPROCESS)})",
        )
        check(bool(self.apply), f"{key}.apply", "must name at least one source")
        check(1 <= self.batch_size <= 100_000, f"{key}.batch_size", "must be in [1, 100000]")
        check(not self.model or self.model.endswith((".bin", ".ftz")), f"{key}.model", f"must be a fastText .bin or .ftz file, got {self.model!r}")
