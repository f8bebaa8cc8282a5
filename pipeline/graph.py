"""The pipeline graph: read -> stages -> writes -> stats. Runner-independent; run.py runs it."""

import json
import time
from dataclasses import asdict
from typing import Any

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
from pipeline.stages import registry
from pipeline.stages.flow import StageGraph, StageOutputs
from pipeline.stages.mixture import STAGE as MIXTURE_STAGE
from pipeline.stages.mixture import AssignCopies, PlanMixture
from pipeline.stages.quality_classifier_train import WriteTrainedModel
from pipeline.stages.spec import StageSpec, resolve, section_of
from pipeline.stages.tokenize import Tokenize, TokenizerJson
from pipeline.text.domains import domain_of
from schemas import DEAD_LETTER_SCHEMA, DOCUMENT_SCHEMA, REJECTION_SCHEMA

STATS_FILE = "stats.json"
_ROW_OVERHEAD = 100  # bytes counted per row for ids, labels and map entries when sizing files


def _document_size(d: Document) -> int:
    return _ROW_OVERHEAD + len(d.text) + sum(len(k) + 8 for k in d.scores) + sum(len(k) + len(v) for k, v in d.metadata.items())


def apply_stages(docs, cfg: PipelineConfig) -> StageOutputs:
    """Builds the registry's stages in order (pipeline.stages.registry): the per-document ones in
    chains (one pass over each batch), the ones that need the whole corpus (dedup, percentiles)
    between them. Stages selected by a config list (dedup.methods) run in that list's order."""
    graph = StageGraph(docs, cfg.output.rejected_text)
    read_before = {name for spec in registry.STAGES if spec.reads_before and (name := resolve(spec.reads_before)(cfg))}
    groups_built: set[str] = set()
    for spec in registry.STAGES:
        if spec.name in read_before:
            graph.mark_before(spec.name)
        if not spec.selected_by:
            _build(graph, spec, cfg)
        elif spec.selected_by not in groups_built:
            groups_built.add(spec.selected_by)
            members = {s.name: s for s in registry.STAGES if s.selected_by == spec.selected_by}
            for name in section_of(cfg, spec.selected_by):
                _build(graph, members[name], cfg)
    return graph.finish()


def _build(graph: StageGraph, spec: StageSpec, cfg: PipelineConfig) -> None:
    if spec.enabled and not section_of(cfg, spec.enabled):
        return
    build = resolve(spec.build)
    if spec.kind == "steps":
        graph.start_group(spec.chain)
        build(graph, cfg)
        return
    transform = build(section_of(cfg, spec.build_config or spec.config), keep_text=cfg.output.rejected_text)
    result = graph.docs() | transform
    graph.corpus_stage(spec.stage_ids[0], result, facts=spec.facts, scored=bool(spec.scores))


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
    # Every stage's rejections stay separate collections: the writer, the counts and the report's
    # examples each read them where they are produced, so no flattened copy of all rejected text
    # is materialised, decoded and re-encoded between the stages and the writer.
    rejected = tuple(stages.rejected) or (p | "NoRejections" >> beam.Create([]),)
    skipped = (stages.skipped or [p | "NoSkippedRules" >> beam.Create([])]) | "AllSkippedRules" >> beam.Flatten()

    out = cfg.output
    documents_written = None
    if out.write_documents:
        documents_written = kept | "WriteDocuments" >> WriteParquetShards(
            output, lambda d: "documents", "id", Document.to_row, _document_size, DOCUMENT_SCHEMA, out.shard_bytes, required=("documents",)
        )
    rejections_written = rejected | "WriteRejections" >> WriteParquetShards(
        output,
        lambda r: f"rejections/{r.stage}/{r.reason}",  # not stage=/reason=: those would clash with the columns
        "doc_id",
        Rejection.to_row,
        lambda r: _ROW_OVERHEAD + len(r.text or "") + len(r.detail),
        REJECTION_SCHEMA,
        out.shard_bytes,
    )
    dead_written = dead | "WriteDeadLetters" >> WriteParquetShards(
        output,
        lambda d: "dead_letters",
        "location",
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
                *(part | f"CountRejected[{i}]" >> beam.FlatMap(_rejected_events) for i, part in enumerate(rejected)),
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
        histograms=report.histograms(chain_counts, stages.histograms),
        examples=report.examples(rejected, dead),
        volumes=report.volumes(chain_counts, stages.flow, stages.stage_ids, started),
        **{name: beam.pvalue.AsSingleton(fact) for name, fact in sorted(stages.facts.items())},
    )


def read_stats(output: str) -> dict[str, Any]:
    with FileSystems.open(f"{output}/{STATS_FILE}") as f:
        return json.loads(f.read().decode("utf-8"))
