"""Token shards and manifest.json: the files the trainer reads.

rows -> GroupByKey(shard) -> one Arrow IPC file per shard, rows sorted by their hash key,
        written under a temporary name (tokens/.tmp-shard-NNNNN.arrow)
     -> Finalize (once, after every shard): temporary names renamed into place, then
        tokens/tokenizer.json, then tokens/manifest.json, last: a manifest that exists
        describes complete shards.
"""

import hashlib
from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from pipeline.io.write import write_atomically
from pipeline.stages.tokenize import TokenizerOnWorker
from schemas.manifest import Manifest, ShardInfo, SourceMixture, TokenizerInfo, config_sha256, json_config
from schemas.tokens import WrittenShard, token_dtype, write_token_shard

TOKENS_DIR = "tokens"
MANIFEST = "manifest.json"
TOKENIZER = "tokenizer.json"


class ShardResult(NamedTuple):
    index: int
    temporary: str  # full path
    final: str  # full path
    written: WrittenShard
    units_by_source: dict[str, int]
    rows_by_source: dict[str, int]


def shard_name(index: int) -> str:
    return f"shard-{index:05d}.arrow"


class _WriteShard(beam.DoFn):
    def __init__(self, out_dir: str, eod_token: str, specials: list[str]):
        self._dir = f"{out_dir}/{TOKENS_DIR}"
        self._eod_token = eod_token
        self._specials = specials

    def setup(self):
        self._tokenizer = TokenizerOnWorker(self._eod_token, tuple(self._specials))

    def process(self, group, tokenizer_json: str):
        index, entries = group
        entries = sorted(entries, key=lambda e: e[0])  # the hash order: a shuffle every runner agrees on
        rows = [row for _, row, _ in entries]
        units: dict[str, int] = {}
        counts: dict[str, int] = {}
        for _, row, n in entries:
            units[row.source] = units.get(row.source, 0) + n
            counts[row.source] = counts.get(row.source, 0) + 1
        vocab = self._tokenizer.get(tokenizer_json).vocab_size
        temporary = f"{self._dir}/.tmp-{shard_name(index)}"
        written: list[WrittenShard] = []
        write_atomically(temporary, lambda sink: written.append(write_token_shard(sink, rows, vocab)))
        yield ShardResult(index, temporary, f"{self._dir}/{shard_name(index)}", written[-1], units, counts)


class _Finalize(beam.DoFn):
    def __init__(self, out_dir: str, config: dict[str, Any], eod_token: str, specials: list[str]):
        self._dir = f"{out_dir}/{TOKENS_DIR}"
        self._config = json_config(config)
        self._eod_token = eod_token
        self._specials = specials

    def process(self, _, shards: list[ShardResult], tokenizer_json: str, plan):
        shards = sorted(shards, key=lambda s: s.index)
        for s in shards:
            if FileSystems.exists(s.temporary):  # a retried finalize finds them renamed already
                if FileSystems.exists(s.final):
                    FileSystems.delete([s.final])
                FileSystems.rename([s.temporary], [s.final])
        payload = tokenizer_json.encode("utf-8")
        write_atomically(f"{self._dir}/{TOKENIZER}", lambda sink: sink.write(payload))
        tokenizer = TokenizerOnWorker(self._eod_token, tuple(self._specials)).get(tokenizer_json)
        manifest = Manifest(
            tokenizer=TokenizerInfo(
                file=TOKENIZER,
                sha256=hashlib.sha256(payload).hexdigest(),
                vocab_size=tokenizer.vocab_size,
                eod_id=tokenizer.eod,
                token_dtype=token_dtype(tokenizer.vocab_size).name,
                special_tokens=tokenizer.special,
            ),
            shards=[
                ShardInfo(
                    path=shard_name(s.index),
                    rows=s.written.rows,
                    tokens=s.written.tokens,
                    sha256=s.written.sha256,
                    tokens_by_source=dict(sorted(s.written.tokens_by_source.items())),
                )
                for s in shards
            ],
            mixture_unit=plan.unit,
            sources=_sources(shards, plan),
            config=self._config,
            config_sha256=config_sha256(self._config),
        )
        text = manifest.to_json().encode("utf-8")
        write_atomically(f"{self._dir}/{MANIFEST}", lambda sink: sink.write(text))
        yield {
            "shards": len(shards),
            "tokens": manifest.total_tokens,
            "rows": sum(s.rows for s in manifest.shards),
            "sources": {
                name: {"target": m.target_share, "achieved": m.achieved_share, "epochs": m.epochs, "warning": m.warning}
                for name, m in manifest.sources.items()
            },
        }


def _sources(shards: list[ShardResult], plan) -> dict[str, SourceMixture]:
    units: dict[str, int] = {}
    tokens: dict[str, int] = {}
    rows: dict[str, int] = {}
    for s in shards:
        for table, add in ((units, s.units_by_source), (tokens, s.written.tokens_by_source), (rows, s.rows_by_source)):
            for source, n in add.items():
                table[source] = table.get(source, 0) + n
    total = sum(units.values())
    out = {}
    for source, p in sorted(plan.sources.items()):
        written = units.get(source, 0)
        out[source] = SourceMixture(
            target_share=p.target_share,
            achieved_share=written / total if total else 0.0,
            available_tokens=p.available,
            rate=p.rate,
            epochs=written / p.available if p.available else 0.0,
            tokens_written=tokens.get(source, 0),
            documents_written=rows.get(source, 0),
            warning=p.warning,
        )
    return out


class WriteTokenShards(beam.PTransform):
    """rows (shard, (order key, ShardRow, units)) -> a singleton summary of what was written."""

    def __init__(self, out_dir: str, config: dict[str, Any], tokenizer_json, plan, eod_token: str, specials: list[str]):
        super().__init__()
        self._out_dir = out_dir
        self._config = config
        self._tokenizer_json = tokenizer_json
        self._plan = plan
        self._eod_token = eod_token
        self._specials = list(specials)

    def expand(self, rows):
        tokenizer = beam.pvalue.AsSingleton(self._tokenizer_json)
        shards = (
            rows
            | "GroupByShard" >> beam.GroupByKey()
            | "WriteShard" >> beam.ParDo(_WriteShard(self._out_dir, self._eod_token, self._specials), tokenizer)
        )
        return (
            rows.pipeline
            | "FinalizeOnce" >> beam.Create([None])
            | "Finalize"
            >> beam.ParDo(
                _Finalize(self._out_dir, self._config, self._eod_token, self._specials),
                beam.pvalue.AsList(shards),
                tokenizer,
                beam.pvalue.AsSingleton(self._plan),
            )
        )
