"""Every stage, in pipeline order: the one list that the graph, the config and the report read.

A new stage is a module under pipeline/stages/ (its transform or chain steps, and its builder),
its Beam-free logic under pipeline/text/ with its config dataclass, plus one StageSpec here.
graph.py builds what this lists; config.py assembles PipelineConfig from the declared sections
and validates dedup.methods and quality.apply against it; report/scores.py draws the scores
declared here; run.check_models runs each declared check. This module imports no stage module
(tests/test_registry.py checks it), so the report and the config load no model library.

Per-document stages (kind "steps") join the running chain (pipeline.stages.chain.RunChain): one
pass over each batch. A corpus-level stage (dedup, decontamination) ends the chain before it.
"""

from pipeline.stages.spec import COUNT_LOG, FLAG, FRACTION, LANG_SCORE, ScoreSpec, StageSpec, integers, linear, log, score_key

# Quality rule families, in the order they run on a document (pipeline.stages.quality).
QUALITY_FAMILIES = ("gopher_repetition", "gopher_quality", "c4", "fineweb", "code")
SIGNALS_STAGE, CLEAN_STAGE = "quality.signals.v1", "quality.c4_clean.v1"
_GR, _GQ, _C4, _FW, _CODE = (f"quality.{family}.v1" for family in QUALITY_FAMILIES)
_R, _QL, _C, _F, _K = (f"config.quality.{f}." for f in QUALITY_FAMILIES)


def _s(stage_id: str, signal: str, title: str, step: str, bins, thresholds: tuple[str, ...] = (), **kw) -> ScoreSpec:
    return ScoreSpec(score_key(stage_id, signal), title, step, bins, thresholds, **kw)


EXTRACT_STAGE, URL_STAGE, PII_STAGE = "extract.html.v1", "extract.url_filter.v1", "extract.pii.v1"
WEB = StageSpec(
    name="web",
    stage_ids=(EXTRACT_STAGE, URL_STAGE, PII_STAGE),
    reasons=("pipeline.text.extract:ExtractReason", "pipeline.text.urls:UrlReason"),
    sections=(
        ("extract", "pipeline.text.extract:ExtractConfig"),
        ("url_filter", "pipeline.text.urls:UrlFilterConfig"),
        ("pii", "pipeline.text.pii:PiiConfig"),
    ),
    build="pipeline.stages.web:build",
    chain="filters",
    report_sections=(("extract.", "Web pages"),),
    scores=(
        _s(
            EXTRACT_STAGE,
            "chars",
            "characters extracted from the HTML",
            EXTRACT_STAGE,
            COUNT_LOG,
            ("config.extract.min_chars",),
            note="pages read from WARC responses",
        ),
        _s(EXTRACT_STAGE, "replaced_chars", "undecodable bytes replaced", EXTRACT_STAGE, COUNT_LOG, note="pages read from WARC responses"),
        _s(PII_STAGE, "emails", "email addresses redacted", PII_STAGE, integers(0, 20), note="pii.apply sources"),
        _s(PII_STAGE, "ips", "public IP addresses redacted", PII_STAGE, integers(0, 20), note="pii.apply sources"),
    ),
)

IDENTIFY_STAGE, LANGUAGE_FILTER_STAGE = "language.fasttext.v1", "language.filter.v1"
LANGUAGE = StageSpec(
    name="language",
    stage_ids=(IDENTIFY_STAGE, LANGUAGE_FILTER_STAGE),
    reasons=("pipeline.stages.language:LanguageReason",),
    sections=(("language", "pipeline.text.langid:LanguageConfig"),),
    build="pipeline.stages.language:build",
    chain="filters",
    check="pipeline.stages.language:check_model",
    report_sections=((LANG_SCORE, "Language identification"),),
    scores=(
        ScoreSpec(
            LANG_SCORE,
            "language confidence (fastText lid.176)",
            IDENTIFY_STAGE,
            FRACTION,
            ("config.language.threshold", "config.language.thresholds.*"),
            note="every document read; code is exempt from the gate (language.exempt_sources)",
        ),
    ),
)

QUALITY = StageSpec(
    name="quality",
    stage_ids=(SIGNALS_STAGE, CLEAN_STAGE, _GR, _GQ, _C4, _FW, _CODE),
    reasons=tuple(
        f"pipeline.text.quality.{f}:{n}Reason" for f, n in zip(QUALITY_FAMILIES, ("GopherRepetition", "GopherQuality", "C4", "FineWeb", "Code"))
    ),
    sections=(("quality", "pipeline.text.quality.config:QualityConfig"),),
    build="pipeline.stages.quality:build",
    chain="filters",
    report_sections=(
        (_GR + ":", "Quality: Gopher repetition"),
        (_GQ + ":", "Quality: Gopher quality"),
        (_C4 + ":", "Quality: C4"),
        (_FW + ":", "Quality: FineWeb"),
        (_CODE + ":", "Quality: code"),
    ),
    scores=(
        # Gopher repetition (Rae et al. 2021, Table A1): shares of the text in repeated units.
        _s(_GR, "dup_para_frac", "duplicate paragraphs (share of paragraphs)", SIGNALS_STAGE, FRACTION, (_R + "max_dup_para_frac",)),
        _s(_GR, "dup_para_char_frac", "characters in duplicate paragraphs", SIGNALS_STAGE, FRACTION, (_R + "max_dup_para_char_frac",)),
        _s(_GR, "dup_line_frac", "duplicate lines (share of lines)", SIGNALS_STAGE, FRACTION, (_R + "max_dup_line_frac",)),
        _s(_GR, "dup_line_char_frac", "characters in duplicate lines", SIGNALS_STAGE, FRACTION, (_R + "max_dup_line_char_frac",)),
        _s(_GR, "top_{n}gram_char_frac", "characters in the most frequent {n}-gram", SIGNALS_STAGE, FRACTION, (_R + "max_top_ngram_char_frac.{n}",)),
        _s(_GR, "dup_{n}gram_char_frac", "characters in repeated {n}-grams", SIGNALS_STAGE, FRACTION, (_R + "max_dup_ngram_char_frac.{n}",)),
        # Gopher quality.
        _s(_GQ, "word_count", "words", SIGNALS_STAGE, COUNT_LOG, (_QL + "min_words", _QL + "max_words")),
        _s(
            _GQ,
            "mean_word_length",
            "mean word length (characters)",
            SIGNALS_STAGE,
            linear(0.0, 20.0, 40),
            (_QL + "min_mean_word_length", _QL + "max_mean_word_length"),
        ),
        _s(_GQ, "hash_ratio", "'#' per word", SIGNALS_STAGE, linear(0.0, 0.5, 50), (_QL + "max_hash_ratio",)),
        _s(_GQ, "ellipsis_ratio", "ellipses per word", SIGNALS_STAGE, linear(0.0, 0.5, 50), (_QL + "max_ellipsis_ratio",)),
        _s(_GQ, "bullet_lines", "lines starting with a bullet", SIGNALS_STAGE, FRACTION, (_QL + "max_bullet_lines",)),
        _s(_GQ, "end_ellipsis_lines", "lines ending with an ellipsis", SIGNALS_STAGE, FRACTION, (_QL + "max_end_ellipsis_lines",)),
        _s(_GQ, "alpha_words", "words with a letter", SIGNALS_STAGE, FRACTION, (_QL + "min_alpha_words",)),
        _s(_GQ, "stop_words", "distinct stop words", SIGNALS_STAGE, integers(0, 30), (_QL + "min_stop_words",)),
        # C4, after its line cleaning.
        _s(_C4, "sentences", "sentences after cleaning", CLEAN_STAGE, integers(0, 50), (_C + "min_sentences",)),
        _s(_C4, "lorem_ipsum", "'lorem ipsum' present", CLEAN_STAGE, FLAG, (_C + "forbid_lorem_ipsum",)),
        _s(_C4, "curly_bracket", "'{' present", CLEAN_STAGE, FLAG, (_C + "forbid_curly_bracket",)),
        _s(_C4, "lines_removed", "lines removed by cleaning", CLEAN_STAGE, integers(0, 50)),
        _s(_C4, "chars_removed", "characters removed by cleaning", CLEAN_STAGE, COUNT_LOG),
        # FineWeb, on the cleaned text.
        _s(_FW, "line_punct_ratio", "lines ending in terminal punctuation", CLEAN_STAGE, FRACTION, (_F + "min_line_punct_ratio",)),
        _s(_FW, "short_line_ratio", "short lines", CLEAN_STAGE, FRACTION, (_F + "max_short_line_ratio",)),
        _s(_FW, "dup_line_char_ratio", "characters in duplicate lines", CLEAN_STAGE, linear(0.0, 0.25, 50), (_F + "max_dup_line_char_ratio",)),
        _s(_FW, "list_ratio", "newlines per word", CLEAN_STAGE, FRACTION, (_F + "max_list_ratio",)),
        # Code (StarCoder, The Stack).
        _s(_CODE, "mean_line_length", "mean line length", SIGNALS_STAGE, linear(0.0, 200.0, 50), (_K + "max_mean_line_length",)),
        _s(_CODE, "max_line_length", "longest line", SIGNALS_STAGE, log(1.0, 1e5, 50), (_K + "max_line_length",)),
        _s(_CODE, "alnum_fraction", "alphanumeric characters", SIGNALS_STAGE, FRACTION, (_K + "min_alnum_fraction",)),
        _s(_CODE, "autogenerated", "auto-generated marker", SIGNALS_STAGE, FLAG, (_K + "forbid_autogenerated",)),
        _s(_CODE, "data_line_fraction", "data-only lines", SIGNALS_STAGE, FRACTION, (_K + "max_data_line_fraction",)),
        _s(_CODE, "encoded_fraction", "characters in encoded runs", SIGNALS_STAGE, FRACTION, (_K + "max_encoded_fraction",)),
    ),
)

# Dedup methods: corpus-level, run in the order dedup.methods lists them, each on what the previous kept.
_DEDUP = {
    "kind": "corpus",
    "selected_by": "dedup.methods",
    "build_config": "dedup",
    "reasons": ("pipeline.stages.dedup:DedupReason",),
    "report_sections": (("dedup.", "Deduplication"),),
}
EXACT_STAGE, PARAGRAPHS_STAGE, SUBSTRING_STAGE = "dedup.exact.v1", "dedup.paragraphs.v1", "dedup.substring.v1"
MINHASH_STAGE, SIMHASH_STAGE = "dedup.minhash.v1", "dedup.simhash.v1"
DEDUP_EXACT = StageSpec(
    name="exact",
    stage_ids=(EXACT_STAGE,),
    sections=(("dedup.exact", "pipeline.text.dedup.exact:ExactDedupConfig"),),
    build="pipeline.stages.dedup:DropExactDuplicates",
    **_DEDUP,
)
DEDUP_PARAGRAPHS = StageSpec(
    name="paragraphs",
    stage_ids=(PARAGRAPHS_STAGE,),
    sections=(("dedup.paragraphs", "pipeline.text.dedup.paragraphs:ParagraphDedupConfig"),),
    build="pipeline.stages.paragraph_dedup:RemoveRepeatedParagraphs",
    scores=(
        _s(
            PARAGRAPHS_STAGE,
            "lines_removed",
            "repeated lines removed",
            PARAGRAPHS_STAGE,
            integers(0, 50),
            note="dedup.paragraphs.sources, documents kept",
        ),
        _s(PARAGRAPHS_STAGE, "chars_removed", "characters in repeated lines removed", PARAGRAPHS_STAGE, COUNT_LOG, note="documents kept"),
    ),
    **_DEDUP,
)
DEDUP_MINHASH = StageSpec(
    name="minhash",
    stage_ids=(MINHASH_STAGE,),
    sections=(("dedup.minhash", "pipeline.text.dedup.minhash:MinHashConfig"),),
    build="pipeline.stages.near_dedup:drop_minhash_duplicates",
    **_DEDUP,
)
DEDUP_SIMHASH = StageSpec(
    name="simhash",
    stage_ids=(SIMHASH_STAGE,),
    sections=(("dedup.simhash", "pipeline.text.dedup.simhash:SimHashConfig"),),
    build="pipeline.stages.near_dedup:drop_simhash_duplicates",
    **_DEDUP,
)
DEDUP_SUBSTRING = StageSpec(
    name="substring",
    stage_ids=(SUBSTRING_STAGE,),
    sections=(("dedup.substring", "pipeline.text.dedup.substring:SubstringDedupConfig"),),
    build="pipeline.stages.substring_dedup:CutRepeatedSubstrings",
    scores=(
        # Counted over every document it cut, kept or rejected (its result's `scored`).
        _s(
            SUBSTRING_STAGE,
            "chars_removed",
            "characters cut as repeated spans",
            SUBSTRING_STAGE,
            COUNT_LOG,
            note="documents with a repeated span cut",
        ),
        _s(SUBSTRING_STAGE, "spans_removed", "repeated spans cut", SUBSTRING_STAGE, integers(0, 50), note="documents with a repeated span cut"),
        _s(
            SUBSTRING_STAGE,
            "removed_fraction",
            "share of the characters cut as repeated spans",
            SUBSTRING_STAGE,
            FRACTION,
            ("config.dedup.substring.max_removed_fraction",),
            note="documents with a repeated span cut; above the line: rejected (substring_duplicate)",
        ),
    ),
    **_DEDUP,
)

DECONTAM_STAGE = "decontaminate.ngram.v1"
DECONTAMINATION = StageSpec(
    name="decontamination",
    stage_ids=(DECONTAM_STAGE,),
    reasons=("pipeline.stages.decontaminate:DecontamReason",),
    sections=(("decontamination", "pipeline.text.decontam:DecontaminationConfig"),),
    build="pipeline.stages.decontaminate:Decontaminate",
    kind="corpus",
    enabled="decontamination.enabled",
    facts="decontamination",
    check="pipeline.stages.decontaminate:check_eval_sets",
    report_sections=((DECONTAM_STAGE + ":", "Decontamination"),),
    scores=(
        _s(DECONTAM_STAGE, "chars_removed", "characters cut (mode cut)", DECONTAM_STAGE, COUNT_LOG, note="documents kept"),
        _s(DECONTAM_STAGE, "ngrams_matched", "evaluation n-grams matched (mode cut)", DECONTAM_STAGE, COUNT_LOG, note="documents kept"),
    ),
)

# Model stages last: they cost the most per document, so they see the fewest. Toxicity first:
# perplexity's percentiles then describe the text that is kept.
TOXICITY_STAGE, TOXICITY_FILTER_STAGE = "toxicity.score.v1", "toxicity.filter.v1"
TOXICITY = StageSpec(
    name="toxicity",
    stage_ids=(TOXICITY_STAGE, TOXICITY_FILTER_STAGE),
    reasons=("pipeline.stages.toxicity:ToxicityReason",),
    sections=(("toxicity", "pipeline.text.toxicity:ToxicityConfig"),),
    build="pipeline.stages.toxicity:build",
    chain="models",
    report_sections=(("toxicity.", "Toxicity"),),
    scores=(
        _s(TOXICITY_STAGE, "matches", "word-list matches", TOXICITY_STAGE, integers(0, 30), ("config.toxicity.count_threshold",)),
        _s(
            TOXICITY_STAGE,
            "density",
            "word-list matches per word",
            TOXICITY_STAGE,
            linear(0.0, 0.1, 50),
            ("config.toxicity.density_threshold",),
            note="documents in a language with a word list",
        ),
        _s(
            TOXICITY_STAGE,
            "prob",
            "classifier probability (max over paragraphs)",
            TOXICITY_STAGE,
            FRACTION,
            ("config.toxicity.classifier_threshold",),
            note="documents in toxicity.classifier_languages",
        ),
    ),
)

PERPLEXITY_STAGE, BUCKET_STAGE, PERPLEXITY_FILTER_STAGE = "perplexity.kenlm.v1", "perplexity.buckets.v1", "perplexity.filter.v1"
PERPLEXITY_KEY = score_key(PERPLEXITY_STAGE, "perplexity")
PERPLEXITY = StageSpec(
    name="perplexity",
    stage_ids=(PERPLEXITY_STAGE, BUCKET_STAGE, PERPLEXITY_FILTER_STAGE),
    reasons=("pipeline.stages.perplexity:PerplexityReason",),
    sections=(("perplexity", "pipeline.text.perplexity:PerplexityConfig"),),
    build="pipeline.stages.perplexity:build",
    chain="models",
    check="pipeline.stages.perplexity:check_models",
    report_sections=(("perplexity.", "Perplexity"),),
    scores=(
        ScoreSpec(
            PERPLEXITY_KEY,
            "KenLM perplexity",
            PERPLEXITY_STAGE,
            log(1.0, 1e6, 60),
            ("facts.perplexity_cutoffs.{lang}.cutoffs", "config.perplexity.max_perplexity.*"),
            per_language=True,
            note="every scored document; the head | middle | tail cutoffs come from, and gate, perplexity.gate_sources only",
        ),
        _s(BUCKET_STAGE, "bucket", "head | middle | tail bucket (0, 1, 2)", BUCKET_STAGE, None),  # the gate's input; the cutoffs are drawn above
    ),
)

CLASSIFIER_STAGE, CLASSIFIER_FILTER_STAGE = "quality_classifier.fasttext.v1", "quality_classifier.filter.v1"
CLASSIFIER_MARK_STAGE = "quality_classifier.mark_cutoffs.v1"
QUALITY_CLASSIFIER = StageSpec(
    name="quality_classifier",
    stage_ids=(CLASSIFIER_STAGE, CLASSIFIER_MARK_STAGE, CLASSIFIER_FILTER_STAGE),
    reasons=("pipeline.stages.quality_classifier:ClassifierReason",),
    sections=(("quality_classifier", "pipeline.text.quality_classifier:QualityClassifierConfig"),),
    build="pipeline.stages.quality_classifier:build",
    chain="classifier",
    check="pipeline.stages.quality_classifier:check_model",
    reads_before="pipeline.stages.quality_classifier:reads_before",
    report_sections=(("quality_classifier.", "Quality classifier"),),
    scores=(
        _s(
            CLASSIFIER_STAGE,
            "score",
            "quality classifier score (fastText)",
            CLASSIFIER_STAGE,
            FRACTION,
            ("facts.quality_classifier_cutoffs.cutoffs.{source}.*",),
            per_source=True,
            note="quality_classifier.apply sources; lines: the threshold, or the top_fraction cutoff per language (pareto draws none)",
        ),
        # The top_fraction cutoff of the document's (source, language), for the gate; drawn on the score above.
        _s(CLASSIFIER_FILTER_STAGE, "cutoff", "top_fraction cutoff", CLASSIFIER_FILTER_STAGE, None),
    ),
)

STAGES: tuple[StageSpec, ...] = (
    WEB,
    LANGUAGE,
    QUALITY,
    DEDUP_EXACT,
    DEDUP_PARAGRAPHS,
    DEDUP_MINHASH,
    DEDUP_SIMHASH,
    DEDUP_SUBSTRING,
    DECONTAMINATION,
    TOXICITY,
    PERPLEXITY,
    QUALITY_CLASSIFIER,
)


def selectable(config_list: str) -> tuple[str, ...]:
    """The stage names a config list (e.g. "dedup.methods") may name, in registry order."""
    return tuple(spec.name for spec in STAGES if spec.selected_by == config_list)


def config_sections() -> tuple[tuple[str, str], ...]:
    """(dotted path, "module:Dataclass") of every config section the stages declare, in pipeline
    order (pipeline.config assembles PipelineConfig from them)."""
    return tuple(section for spec in STAGES for section in spec.sections)


def scores() -> tuple[ScoreSpec, ...]:
    return tuple(score for spec in STAGES for score in spec.scores)


def report_sections() -> tuple[tuple[str, str], ...]:
    """(score key prefix, heading) of every group of histograms, in page order, each heading once."""
    out: list[tuple[str, str]] = []
    for spec in STAGES:
        out += [section for section in spec.report_sections if section not in out]
    return tuple(out)
