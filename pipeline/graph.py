"""The pipeline graph: read -> stages -> writes -> stats. Runner-independent; run.py runs it."""

import json
import time
from dataclasses import asdict
from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from pipeline import stats as stats_lib
from pipeline.config import PipelineConfig
from pipeline.io.parse import WARC_SUFFIXES
from pipeline.io.read import ReadDocuments
from pipeline.io.shards import WriteTokenShards
from pipeline.io.warc import WARC_STAGE
from pipeline.io.write import WriteParquetShards, write_atomically
from pipeline.records import DeadLetter, Document, Rejection
from pipeline.report import ReportData, write_report
from pipeline.report import collect as report
from pipeline.report import scores as report_scores
from pipeline.stages.chain import HIST, RunChain, Step
from pipeline.stages.decontaminate import DECONTAM_STAGE, Decontaminate
from pipeline.stages.dedup import EXACT_STAGE, DropExactDuplicates
from pipeline.stages.language import IdentifyLanguage, KeepLanguages
from pipeline.stages.mixture import STAGE as MIXTURE_STAGE
from pipeline.stages.mixture import AssignCopies, PlanMixture
from pipeline.stages.near_dedup import MINHASH_STAGE, SIMHASH_STAGE, drop_minhash_duplicates, drop_simhash_duplicates
from pipeline.stages.paragraph_dedup import PARAGRAPHS_STAGE, RemoveRepeatedParagraphs
from pipeline.stages.perplexity import BucketPerplexity, PerplexityCutoffs, PerplexityGate, ScorePerplexity
from pipeline.stages.quality import quality_steps
from pipeline.stages.quality_classifier import (
    MarkCutoff,
    QualityClassifierGate,
    QualityCutoffs,
    ScoreQuality,
    ScoreQualityWithTrainedModel,
)
from pipeline.stages.quality_classifier_train import QualityClassifierModel, WriteTrainedModel
from pipeline.stages.substring_dedup import SUBSTRING_STAGE, CutRepeatedSubstrings
from pipeline.stages.tokenize import Tokenize, TokenizerJson
from pipeline.stages.toxicity import ScoreToxicity, ToxicityGate
from pipeline.stages.web import web_steps
from pipeline.text.domains import domain_of
from schemas import DEAD_LETTER_SCHEMA, DOCUMENT_SCHEMA, REJECTION_SCHEMA

STATS_FILE = "stats.json"
# dedup.methods entry -> (stage id, transform factory(DedupConfig, keep_text=...))
DEDUP_STAGES = {
    "exact": (EXACT_STAGE, DropExactDuplicates),
    "paragraphs": (PARAGRAPHS_STAGE, RemoveRepeatedParagraphs),
    "minhash": (MINHASH_STAGE, drop_minhash_duplicates),
    "simhash": (SIMHASH_STAGE, drop_simhash_duplicates),
    "substring": (SUBSTRING_STAGE, CutRepeatedSubstrings),
}
_ROW_OVERHEAD = 100  # bytes counted per row for ids, labels and map entries when sizing files


def _document_size(d: Document) -> int:
    return _ROW_OVERHEAD + len(d.text) + sum(len(k) + 8 for k in d.scores) + sum(len(k) + len(v) for k, v in d.metadata.items())


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


def apply_stages(docs, cfg: PipelineConfig) -> StageOutputs:
    """Runs the stages in order: the per-document ones in chains (one pass over each batch), the
    ones that need the whole corpus (dedup, percentiles) between them."""
    out = StageOutputs(kept=None, rejected=[], skipped=[], stage_ids=[], facts={}, chains=[], flow=[], models={})

    def chain(label, collection, steps, side=None):
        batch_size = max(s.batch_size for s in steps)
        result = collection | RunChain(label, steps, batch_size, cfg.output.rejected_text, report_scores.binned, side)
        out.rejected.append(result.rejected)
        out.stage_ids.extend(result.gates)
        out.chains.append((result.gates, result.report))
        return result.kept

    language, quality, qc = cfg.language, cfg.quality, cfg.quality_classifier
    identify = web_steps(cfg) + [Step(IdentifyLanguage(language), language.batch_size), Step(KeepLanguages(language))]
    rules = [Step(s, quality.batch_size if hasattr(s, "annotate") else 0) for s in quality_steps(quality)]
    trains_classifier = qc.enabled and not qc.model
    if trains_classifier:  # its negatives are raw web before any quality gate (GPT-3, DCLM): two chains
        docs = before_quality = chain("Language", docs, identify)
        docs = chain("Quality", docs, rules)
    else:
        docs = chain("LanguageAndQuality", docs, identify + rules)

    for method in cfg.dedup.methods:
        stage_id, transform = DEDUP_STAGES[method]
        result = docs | transform(cfg.dedup, keep_text=cfg.output.rejected_text)
        out.rejected.append(result.rejected)
        out.skipped.append(result.skipped)
        out.stage_ids.append(stage_id)
        out.flow.append((stage_id, docs, result.kept))
        if getattr(result, "scored", None) is not None:  # a stage that rewrites text: its scores' histograms
            out.chains.append(([], result.scored | f"Report/Scores[{stage_id}]" >> beam.Map(_score_counts, stage_id)))
        docs = result.kept
    if cfg.decontamination.enabled:  # after dedup (fewer documents), before the model stages
        result = docs | Decontaminate(cfg.decontamination, keep_text=cfg.output.rejected_text)
        out.rejected.append(result.rejected)
        out.stage_ids.append(DECONTAM_STAGE)
        out.flow.append((DECONTAM_STAGE, docs, result.kept))
        out.facts["decontamination"] = result.facts
        docs = result.kept

    # Model stages last: they cost the most per document, so they see the fewest. Toxicity
    # first: perplexity's percentiles then describe the text that is kept.
    tox, ppl = cfg.toxicity, cfg.perplexity
    steps = [Step(ScoreToxicity(tox), tox.batch_size), Step(ToxicityGate(tox))] if tox.enabled else []
    steps += [Step(ScorePerplexity(ppl), ppl.batch_size)] if ppl.enabled else []
    if steps:
        docs = chain("ToxicityAndPerplexity", docs, steps)
    if ppl.enabled:
        cutoffs = docs | "PerplexityCutoffs" >> PerplexityCutoffs(ppl, cfg.seed)
        out.facts["perplexity_cutoffs"] = cutoffs
        docs = chain("PerplexityBuckets", docs, [Step(BucketPerplexity(ppl), ppl.batch_size), Step(PerplexityGate(ppl))], side=cutoffs)
    if qc.enabled:
        model = (before_quality if trains_classifier else docs) | "QualityClassifierModel" >> QualityClassifierModel(qc, cfg.seed)
        out.models.update(model.to_write)
        out.facts.update(model.facts)
        scorer = ScoreQualityWithTrainedModel(qc) if trains_classifier else ScoreQuality(qc)
        docs = chain("QualityClassifierScore", docs, [Step(scorer, qc.batch_size)], side=model.model_bytes)
        selection = docs | "QualityClassifierCutoffs" >> QualityCutoffs(qc, cfg.seed)
        out.facts["quality_classifier_cutoffs"] = selection
        docs = chain(
            "QualityClassifierSelect", docs, [Step(MarkCutoff(qc), qc.batch_size), Step(QualityClassifierGate(qc, cfg.seed))], side=selection
        )
    return out._replace(kept=docs)


def _score_counts(doc, stage_id: str) -> dict:
    """One document's histogram counts after `stage_id`, keyed as a chain's counts are (HIST, ...)."""
    return {(HIST, *key): n for key, n in report_scores.binned(doc, stage_id)}


def _sum_pairs(pairs) -> tuple[int, int]:
    tokens = words = 0
    for t, w in pairs:
        tokens += t
        words += w
    return tokens, words


def _tokens_per_word(rows: list) -> dict[str, dict[str, dict[str, float]]]:
    """[((lang, source), (tokens, words))] -> {lang: {source: {tokens, words, tokens_per_word}}}."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for (lang, source), (tokens, words) in sorted(rows):
        out.setdefault(lang, {})[source] = {"tokens": tokens, "words": words, "tokens_per_word": round(tokens / words, 4) if words else 0.0}
    return out


def mix_and_tokenize(docs, output: str, cfg: PipelineConfig, config: dict[str, Any], out: StageOutputs):
    """docs -> the documents with at least one copy in the shards; writes tokens/ (shards,
    tokenizer.json, manifest.json) and adds the mixture's rejections and facts to `out`."""
    tok = cfg.tokenizer
    tokenizer_json = docs | "Tokenizer" >> TokenizerJson(tok, cfg.mixture, cfg.seed)
    tokenized = docs | "Tokenize" >> Tokenize(tok, tokenizer_json)
    plan = tokenized | "PlanMixture" >> PlanMixture(cfg.mixture, cfg.output.tokens_per_shard, cfg.seed)
    copies = tokenized | "AssignCopies" >> AssignCopies(plan, cfg.seed, cfg.output.rejected_text)
    specials = sorted(set(tok.special_tokens) | {tok.end_of_document})
    out.facts["tokens"] = copies.rows | "WriteTokenShards" >> WriteTokenShards(output, config, tokenizer_json, plan, tok.end_of_document, specials)
    out.facts["tokens_per_word"] = (
        tokenized
        | "TokensWords" >> beam.Map(lambda t: ((t.doc.lang or "unknown", t.doc.source), (len(t.ids) - 1, t.words)))
        | "SumTokensWords" >> beam.CombinePerKey(_sum_pairs)
        | "TokensWordsList" >> beam.combiners.ToList()
        | "TokensPerWord" >> beam.Map(_tokens_per_word)
    )
    out.rejected.append(copies.rejected)
    out.stage_ids.append(MIXTURE_STAGE)
    out.flow.append((MIXTURE_STAGE, docs, copies.kept))
    return copies.kept


class _WriteStats(beam.DoFn):
    """Runs once, after every file is written (the files arrive as side inputs): writes report.html,
    then stats.json, the last file of a run, so its presence means the run finished."""

    def __init__(self, output: str, stages: list[str], run: dict[str, Any]):
        self._output = output
        self._stages = stages
        self._run = run

    def process(self, counts, documents, rejections, dead_letters, histograms, examples, volumes, **facts):
        files = {"rejections": rejections, "dead_letters": dead_letters}
        if documents is not None:
            files["documents"] = documents
        files = {name: [asdict(f) for f in fs] for name, fs in files.items()}
        stats = stats_lib.build_stats(counts, self._stages, files, self._run)
        stats["facts"] = facts
        write_report(self._output, stats, ReportData(histograms, examples, volumes))
        payload = json.dumps(stats, indent=2, sort_keys=False, ensure_ascii=False).encode("utf-8") + b"\n"
        write_atomically(f"{self._output}/{STATS_FILE}", lambda sink: sink.write(payload))
        yield stats["accounting"]["holds"]


def _read_events(d):
    """What a record read counts: its source, and its site when it is a web page."""
    yield stats_lib.READ, d.source
    site = _site(d)
    if site:
        yield stats_lib.DOMAIN, site, "read"


def _rejected_events(r):
    yield stats_lib.REJECTED, r.stage, r.reason, r.source, r.lang
    site = _site(r)
    if site:
        yield stats_lib.DOMAIN, site, "rejected"


def _kept_events(d):
    yield stats_lib.KEPT, d.source, d.lang
    site = _site(d)
    if site:
        yield stats_lib.DOMAIN, site, "kept"


def _site(record) -> str:
    meta = getattr(record, "metadata", None)
    if meta and meta.get("domain"):
        return meta["domain"]
    url = record.url or ""
    return domain_of(url) if url.startswith(("http://", "https://")) else ""


def build_graph(p: beam.Pipeline, inputs: list[str], output: str, cfg: PipelineConfig, run: dict[str, Any], crawl: bool | None = None) -> None:
    """`crawl`: whether any input is a WARC/WET file (its read-time rejections then get a funnel
    row, read.warc.v1); None: judged from the input patterns' extensions."""
    started = time.time()  # for the progress lines only; nothing written depends on it
    read = p | "ReadDocuments" >> ReadDocuments(inputs, cfg.read)
    docs, dead = read["documents"], read["dead_letters"]
    stages = apply_stages(docs, cfg)
    if crawl is None:
        crawl = any(pattern.lower().endswith(WARC_SUFFIXES) for pattern in inputs)
    if crawl:
        stages.rejected.insert(0, read["rejected"])
        stages.stage_ids.insert(0, WARC_STAGE)
    for name, trained in sorted(stages.models.items()):  # its facts wait for the file, so stats.json comes after it
        stages.facts[name] = trained | f"WriteModel[{name}]" >> WriteTrainedModel(output)
    stages.facts["repeated_ids"] = read["repeated_ids"]
    kept = stages.kept
    if cfg.output.write_tokens:
        kept = mix_and_tokenize(kept, output, cfg, run["config"], stages)
    rejected = stages.rejected | "AllRejections" >> beam.Flatten()
    skipped = (stages.skipped or [p | "NoSkippedRules" >> beam.Create([])]) | "AllSkippedRules" >> beam.Flatten()

    out = cfg.output
    documents_written = None
    if out.write_documents:
        documents_written = kept | "WriteDocuments" >> WriteParquetShards(
            output, lambda d: "documents", lambda d: d.id, Document.to_row, _document_size, DOCUMENT_SCHEMA, out.shard_bytes, required=("documents",)
        )
    rejections_written = rejected | "WriteRejections" >> WriteParquetShards(
        output,
        lambda r: f"rejections/{r.stage}/{r.reason}",  # not stage=/reason=: those would clash with the columns
        lambda r: r.doc_id,
        Rejection.to_row,
        lambda r: _ROW_OVERHEAD + len(r.text or "") + len(r.detail),
        REJECTION_SCHEMA,
        out.shard_bytes,
    )
    dead_written = dead | "WriteDeadLetters" >> WriteParquetShards(
        output,
        lambda d: "dead_letters",
        lambda d: d.location,
        DeadLetter.to_row,
        lambda d: _ROW_OVERHEAD + len(d.raw_excerpt) + len(d.detail),
        DEAD_LETTER_SCHEMA,
        out.shard_bytes,
        required=("dead_letters",),
    )

    chain_counts = report.merge_chain_counts(stages.chains)
    counts = (
        (
            (
                ([docs, read["rejected"]] if crawl else [docs]) | "AllRead" >> beam.Flatten() | "CountRead" >> beam.FlatMap(_read_events),
                dead | "CountDead" >> beam.Map(lambda d: (stats_lib.DEAD, d.reason, d.source)),
                rejected | "CountRejected" >> beam.FlatMap(_rejected_events),
                kept | "CountKept" >> beam.FlatMap(_kept_events),
                skipped | "CountSkipped" >> beam.Map(lambda s: (stats_lib.SKIPPED, *s)),
            )
            | "AllEvents" >> beam.Flatten()
            | "Count" >> beam.combiners.Count.PerElement(),
            [merged for _, merged in chain_counts] | "AllChainSkips" >> beam.Flatten() | "ChainSkips" >> beam.FlatMap(report.skip_counts),
        )
        | "AllCounts" >> beam.Flatten()
        | "Sum" >> beam.CombinePerKey(sum)
        | "Collect" >> beam.combiners.ToList()
    )
    empty = p | "NoDocumentsFile" >> beam.Create([None])
    _ = counts | "WriteStats" >> beam.ParDo(
        _WriteStats(output, stages.stage_ids, run),
        documents=beam.pvalue.AsList(documents_written) if documents_written is not None else beam.pvalue.AsSingleton(empty),
        rejections=beam.pvalue.AsList(rejections_written),
        dead_letters=beam.pvalue.AsList(dead_written),
        histograms=report.histograms(chain_counts),
        examples=report.examples(rejected, dead),
        volumes=report.volumes(chain_counts, stages.flow, stages.stage_ids, started),
        **{name: beam.pvalue.AsSingleton(fact) for name, fact in sorted(stages.facts.items())},
    )


def read_stats(output: str) -> dict[str, Any]:
    with FileSystems.open(f"{output}/{STATS_FILE}") as f:
        return json.loads(f.read().decode("utf-8"))
