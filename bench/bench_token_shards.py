"""Tokenization in the pipeline, and token shard write / memory-mapped read, in one run.

    python -m bench.bench_token_shards [--scale 4] [--repeat 3]

1. Tokenization on one worker: the pipeline's Tokenize transform (BatchElements -> encode in
   batches of tokenizer.batch_size -> TokenizedDoc with numpy ids and word counts) on the
   DirectRunner (direct_num_workers=1, in_memory), wall clock around building and running,
   against `tokenizers`' own encode_batch on the same texts in batches of the same size. The
   tokenizer is a 32,000-id BPE trained on the sample here, handed to Tokenize as the pipeline
   hands it (a singleton side input of its JSON).
2. Shards: write_token_shard of all those documents' ids to one Arrow IPC file (tokens/s), then
   read_token_shard (memory-mapped) and a pass over every token through the zero-copy flat values
   (tokens/s), and the same read through schemas.reader.TokenData (sha256 check included).
Writes bench/results/token_shards.md (git-ignored) and prints it.
"""

import argparse
import glob
import gzip
import json
import os
import tempfile
import time

import apache_beam as beam
import numpy as np
from apache_beam.options.pipeline_options import PipelineOptions

from bench.common import RESULTS_DIR, ROOT, best_of_each, command_line, from_memory, header, write_report
from pipeline.beam_fixes import direct_runner
from pipeline.config import TokenizerConfig
from pipeline.records import Document
from pipeline.stages.tokenize import Tokenize
from pipeline.text.tokenize.tokenizer import load_tokenizer, train_bpe
from schemas.manifest import Manifest, ShardInfo, TokenizerInfo, config_sha256
from schemas.reader import TokenData
from schemas.tokens import ShardRow, read_token_shard, write_token_shard

RESULTS = os.path.join(RESULTS_DIR, "token_shards.md")
TARGET = 0.9  # the pipeline's tokenization must reach this share of encode_batch's MB/s


def load_docs(scale: int) -> list[Document]:
    docs = []
    for path in sorted(glob.glob(os.path.join(ROOT, "pipeline", "sample", "data", "*.jsonl.gz"))):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            records = [json.loads(line) for line in f]
        docs += [Document(id=f"{os.path.basename(path)}:{i}", text=r["text"], source=r["source"]) for i, r in enumerate(records)]
    return [d.replace(id=f"{d.id}#{k}") for k in range(scale) for d in docs]


def beam_tokenize(docs: list[Document], cfg: TokenizerConfig, tokenizer_json: str) -> int:
    options = PipelineOptions(["--direct_num_workers=1", "--direct_running_mode=in_memory"])
    with beam.Pipeline(runner=direct_runner(options), options=options) as p:
        side = p | "Tokenizer" >> beam.Create([tokenizer_json])
        _ = from_memory(p, docs) | Tokenize(cfg, side) | beam.combiners.Count.Globally()
    return len(docs)


def raw_encode(tokenizer, texts: list[str], size: int) -> None:
    for i in range(0, len(texts), size):
        tokenizer.encode_batch(texts[i : i + size], add_special_tokens=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    docs = load_docs(args.scale)
    texts = [d.text for d in docs]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    cfg = TokenizerConfig()
    started = time.perf_counter()
    tokenizer = train_bpe(texts[: len(texts) // args.scale], cfg.vocab_size, cfg.special_tokens)
    train_s = time.perf_counter() - started
    tokenizer_json = tokenizer.to_str()
    raw = load_tokenizer(tokenizer_json)
    beam_tokenize(docs[:200], cfg, tokenizer_json)  # warm-up: imports, Beam's first-run costs
    t = best_of_each(args.repeat, {"raw": lambda: raw_encode(raw, texts, cfg.batch_size), "ours": lambda: beam_tokenize(docs, cfg, tokenizer_json)})

    eod = tokenizer.token_to_id("<|endoftext|>")
    rows = [
        ShardRow(doc_id=d.id, source=d.source, tokens=np.asarray(e.ids + [eod], np.uint16))
        for d, e in zip(docs, raw.encode_batch_fast(texts, add_special_tokens=False))
    ]
    tokens = sum(len(r.tokens) for r in rows)
    with tempfile.TemporaryDirectory() as work:
        shard = os.path.join(work, "shard-00000.arrow")

        def write():
            with open(shard, "wb") as f:
                return write_token_shard(f, rows, tokenizer.get_vocab_size())

        written = write()
        with open(os.path.join(work, "tokenizer.json"), "w") as f:
            f.write(tokenizer_json)
        info = TokenizerInfo(file="tokenizer.json", sha256="-", vocab_size=tokenizer.get_vocab_size(), eod_id=eod, token_dtype="uint16")
        manifest = Manifest(
            tokenizer=info,
            shards=[ShardInfo(path="shard-00000.arrow", rows=written.rows, tokens=written.tokens, sha256=written.sha256)],
            mixture_unit="tokens",
            sources={},
            config={},
            config_sha256=config_sha256({}),
        )
        with open(os.path.join(work, "manifest.json"), "w") as f:
            f.write(manifest.to_json())

        def read_mmap():
            values = read_token_shard(shard).column("tokens").combine_chunks().values.to_numpy(zero_copy_only=True)
            return int(values.sum(dtype=np.uint64))

        def read_verified():
            table = TokenData(os.path.join(work, "manifest.json")).open_shard(0)
            return int(table.column("tokens").combine_chunks().values.to_numpy(zero_copy_only=True).sum(dtype=np.uint64))

        io = best_of_each(args.repeat, {"write": write, "read": read_mmap, "read_verified": read_verified})
        size_mb = os.path.getsize(shard) / 1e6

    ratio = t["raw"] / t["ours"]
    lines = header(
        "Tokenization in the pipeline, and token shard I/O",
        command_line("bench.bench_token_shards", parser, args),
        ("tokenizers", "pyarrow", "apache-beam"),
    )
    lines += [
        f"- input: the built-in sample x{args.scale}: {len(docs):,} documents, {mb:.1f} MB; tokenizer: byte-level BPE, "
        f"{tokenizer.get_vocab_size():,} ids, trained here on one copy in {train_s:.1f} s; batches of {cfg.batch_size}; best of {args.repeat}",
        "",
        "| variant | seconds | MB/s | ratio to encode_batch |",
        "|---|---:|---:|---:|",
        f"| raw: `Tokenizer.encode_batch` | {t['raw']:.2f} | {mb / t['raw']:.2f} | 1.00 |",
        f"| ours: `Tokenize` through Beam, 1 worker (ids as numpy, words counted) | {t['ours']:.2f} | {mb / t['ours']:.2f} | {ratio:.2f} |",
        "",
        f"Target {TARGET}: {'met' if ratio >= TARGET else 'NOT met'}.",
        "",
        f"Shard: {tokens:,} tokens in {len(rows):,} rows, {size_mb:.1f} MB on disk.",
        "",
        "| step | seconds | M tokens/s |",
        "|---|---:|---:|",
        f"| write_token_shard (numpy ids -> Arrow IPC file, sha256 while writing) | {io['write']:.3f} | {tokens / io['write'] / 1e6:.1f} |",
        f"| read_token_shard, memory-mapped, one pass over every token | {io['read']:.4f} | {tokens / io['read'] / 1e6:.0f} |",
        f"| TokenData.open_shard (sha256 of the file first), one pass | {io['read_verified']:.4f} | {tokens / io['read_verified'] / 1e6:.0f} |",
    ]
    write_report(RESULTS, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
