"""Tokenization throughput: encode_documents against `tokenizers`' own encode_batch on the same texts.

    python -m bench.bench_tokenize [--scale 1] [--repeat 5] [--batch 256] [--long-mb 2]
    RAYON_NUM_THREADS=1 python -m bench.bench_tokenize    # `tokenizers` on one thread

Tokenizers: GPT-2's (pipeline.text.tokenize.gpt2, built once into the user cache) and a 32,000-id
byte-level BPE trained here on the sample (its training time is reported too). Input: the
built-in sample written --scale times over, shuffled (seeded) so that batches mix sources as
the mixture does, in batches of --batch documents. Timed, each the best of --repeat runs, the
variants taking turns so that a busy machine slows them alike:
  raw encode_batch      a fresh Tokenizer.from_file with default settings,
                        `encode_batch(batch, add_special_tokens=False)`, nothing done with the result
                        (the target's baseline);
  raw encode_batch_fast the same without offsets, which is what encode_documents calls;
  ours                  encode_documents: flat ids (uint16) + offsets, end-of-document ids, long
                        documents cut;
  ours + Arrow          the same, then token_list_array: the shard's `tokens` column.
The machine's load average is printed at the start and end: on a shared machine other work
slows the variants alike but makes the absolute numbers noisy.
Then, untimed checks aside: one --long-mb document (the sample's books, papers and web text joined)
encoded whole by encode_batch against encode_documents at a few chunk sizes (ids checked equal);
and building the Arrow column from the ids `tokenizers` returns, through numpy or Python lists.
Writes bench/results/tokenize.md (git-ignored) and prints it.
"""

import argparse
import glob
import gzip
import json
import os
import random
import tempfile
import time
from itertools import chain

import numpy as np
import pyarrow as pa
from tokenizers import Tokenizer

from bench.common import RESULTS_DIR, ROOT, best_of_each, command_line, header, write_report
from pipeline.text.tokenize import gpt2
from pipeline.text.tokenize.tokenizer import END_OF_DOCUMENT, encode_documents, eod_id, load_tokenizer, token_list_array, train_bpe

SAMPLE_GLOB = os.path.join(ROOT, "pipeline", "sample", "data", "*.jsonl.gz")
RESULTS = os.path.join(RESULTS_DIR, "tokenize.md")
TARGET = 0.9  # ours must reach this share of raw encode_batch's MB/s


def load_texts() -> dict[str, list[str]]:
    out = {}
    for path in sorted(glob.glob(SAMPLE_GLOB)):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            out[os.path.basename(path).split(".")[0]] = [json.loads(line)["text"] for line in f if line.strip()]
    return out


def batches(texts: list[str], size: int) -> list[list[str]]:
    return [texts[i : i + size] for i in range(0, len(texts), size)]


def throughput(raw: Tokenizer, ours: Tokenizer, parts: list[list[str]], repeat: int) -> dict[str, float]:
    eod = eod_id(ours)

    def run_raw():
        for b in parts:
            raw.encode_batch(b, add_special_tokens=False)

    def run_raw_fast():
        for b in parts:
            raw.encode_batch_fast(b, add_special_tokens=False)

    def run_ours():
        for b in parts:
            encode_documents(ours, b, eod)

    def run_arrow():
        for b in parts:
            token_list_array(*encode_documents(ours, b, eod))

    return best_of_each(
        repeat,
        {
            "raw encode_batch": run_raw,
            "raw encode_batch_fast (no offsets)": run_raw_fast,
            "ours (encode_documents)": run_ours,
            "ours + Arrow column": run_arrow,
        },
    )


def long_document(texts: dict[str, list[str]], megabytes: float) -> str:
    joined = "\n\n".join(chain(texts["books"], texts["academic"], texts["web"]))
    data = joined.encode("utf-8")[: int(megabytes * 1e6)]
    return data.decode("utf-8", errors="ignore")


def chunking(t: Tokenizer, doc: str, repeat: int) -> dict[str, float]:
    eod = eod_id(t)
    whole = t.encode_batch([doc], add_special_tokens=False)[0].ids + [eod]
    fns = {
        "whole (encode_batch of 1 doc)": lambda: t.encode_batch([doc], add_special_tokens=False),
        "whole (encode_batch_fast of 1 doc)": lambda: t.encode_batch_fast([doc], add_special_tokens=False),
    }
    for chunk in (len(doc) + 1, 131_072, 32_768, 8_192):
        label = "encode_documents, not cut" if chunk > len(doc) else f"encode_documents, chunk_chars={chunk:,}"
        flat, _ = encode_documents(t, [doc], eod, chunk_chars=chunk)
        assert flat.tolist() == whole, f"cutting at {chunk} changed the ids"
        fns[label] = lambda chunk=chunk: encode_documents(t, [doc], eod, chunk_chars=chunk)
    return best_of_each(repeat, fns)


def arrow_building(t: Tokenizer, parts: list[list[str]], repeat: int) -> tuple[int, dict[str, float]]:
    """Tokens, and seconds to turn encode_batch's ids (lists, end-of-document appended) into the
    shard's tokens column: through numpy (as encode_documents does) or from Python lists."""
    eod = eod_id(t)
    lists = [[e.ids + [eod] for e in t.encode_batch_fast(b, add_special_tokens=False)] for b in parts]
    item = pa.list_(pa.field("item", pa.uint16(), nullable=False))
    n_tokens = sum(len(ids) for b in lists for ids in b)

    def via_numpy():
        for b in lists:
            lengths = np.fromiter(map(len, b), np.int64, count=len(b))
            flat = np.fromiter(chain.from_iterable(b), np.uint16, count=int(lengths.sum()))
            offsets = np.zeros(len(b) + 1, np.int32)
            np.cumsum(lengths, out=offsets[1:])
            token_list_array(flat, offsets)

    def via_lists():
        for b in lists:
            pa.array(b, type=item)

    flat_parts = []
    for b in lists:
        lengths = np.fromiter(map(len, b), np.int64, count=len(b))
        offsets = np.zeros(len(b) + 1, np.int32)
        np.cumsum(lengths, out=offsets[1:])
        flat_parts.append((np.fromiter(chain.from_iterable(b), np.uint16, count=int(lengths.sum())), offsets))

    def numpy_only():
        for flat, offsets in flat_parts:
            token_list_array(flat, offsets)

    return n_tokens, best_of_each(
        repeat,
        {
            "Python lists -> pa.array(lists, list<uint16>)": via_lists,
            "Python lists -> numpy flat + offsets -> ListArray (ours)": via_numpy,
            "numpy flat + offsets -> ListArray (zero-copy)": numpy_only,
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=1, help="copies of the sample (default 1, ~12 MB)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch", type=int, default=256, help="documents per encode call (default 256)")
    parser.add_argument("--long-mb", type=float, default=2.0, help="size of the long document in MB (default 2)")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    by_source = load_texts()
    sample = [t for texts in by_source.values() for t in texts]
    texts = sample * args.scale
    random.Random(0).shuffle(texts)
    parts = batches(texts, args.batch)
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    sample_mb = sum(len(t.encode("utf-8")) for t in sample) / 1e6

    gpt2_path = gpt2.ensure()
    start = time.perf_counter()
    trained = train_bpe(sample, 32_000, [END_OF_DOCUMENT])
    train_seconds = time.perf_counter() - start
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        trained_path = os.path.join(tmp, "trained-32k.json")
        trained.save(trained_path)
        for name, path in (("GPT-2 (50,257 ids)", gpt2_path), ("trained (32,000 ids)", trained_path)):
            rows[name] = throughput(Tokenizer.from_file(path), load_tokenizer(path), parts, args.repeat)
    gpt2_tok = load_tokenizer(gpt2_path)
    doc = long_document(by_source, args.long_mb)
    chunk_rows = chunking(gpt2_tok, doc, args.repeat)
    n_tokens, arrow_rows = arrow_building(gpt2_tok, parts, args.repeat)

    threads = os.environ.get("RAYON_NUM_THREADS", f"default ({os.cpu_count()} cores)")
    lines = header("Tokenization throughput", command_line("bench.bench_tokenize", parser, args), versions=("tokenizers", "numpy", "pyarrow")) + [
        f"- input: the built-in sample x{args.scale}, {len(texts)} docs, {mb:.2f} MB of text (UTF-8), shuffled; "
        f"batches of {args.batch}; best of {args.repeat}, variants taking turns; RAYON_NUM_THREADS: {threads}",
        f"- load average (1 min) before / after: {load_before:.2f} / {os.getloadavg()[0]:.2f}",
        f"- the trained tokenizer: train_bpe on the sample ({sample_mb:.1f} MB, 32,000 ids, min_frequency 2) took {train_seconds:.1f} s",
        "",
        "## Throughput against encode_batch",
        "",
        "| tokenizer | variant | seconds | MB/s | ratio to raw |",
        "|---|---|---:|---:|---:|",
    ]
    verdicts = []
    for name, timings in rows.items():
        raw = timings["raw encode_batch"]
        for variant, seconds in timings.items():
            lines.append(f"| {name} | {variant} | {seconds:.3f} | {mb / seconds:.2f} | {raw / seconds:.2f} |")
        ratio = raw / timings["ours + Arrow column"]
        verdicts.append(f"{name}: {'met' if ratio >= TARGET else 'NOT met'} ({ratio:.2f})")
    lines += ["", f"Target: ours + Arrow >= {TARGET} x raw encode_batch. " + "; ".join(verdicts) + "."]

    doc_mb = len(doc.encode("utf-8")) / 1e6
    whole = chunk_rows["whole (encode_batch of 1 doc)"]
    lines += [
        "",
        f"## One long document ({doc_mb:.2f} MB, GPT-2; ids equal to the whole document's at every chunk size)",
        "",
        "| variant | seconds | MB/s | speed-up vs encode_batch | vs encode_batch_fast |",
        "|---|---:|---:|---:|---:|",
    ]
    fast = chunk_rows["whole (encode_batch_fast of 1 doc)"]
    lines += [f"| {variant} | {s:.3f} | {doc_mb / s:.2f} | {whole / s:.2f} | {fast / s:.2f} |" for variant, s in chunk_rows.items()]

    lines += [
        "",
        f"## Building the tokens column ({n_tokens / 1e6:.2f} M tokens, GPT-2 ids as uint16)",
        "",
        "| path | seconds | M tokens/s |",
        "|---|---:|---:|",
    ]
    lines += [f"| {path} | {s:.4f} | {n_tokens / s / 1e6:,.1f} |" for path, s in arrow_rows.items()]
    write_report(RESULTS, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
