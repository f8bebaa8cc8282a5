"""MinHash signature throughput, one worker: ours vs datatrove, datasketch and a numpy-only bound.

    python -m bench.bench_minhash [--repeat 3] [--profile]

Corpus: every document of the built-in sample (pipeline/sample/data/*.jsonl.gz, all sources and
languages), in memory (loading untimed). Each timing is the best of --repeat runs in this process:
  ours            per batch of 256 (MinHashConfig.batch_size), minhash.shingle_hashes (word
                  5-grams) then minhash.signatures (128 affine 32-bit permutations): what the
                  pipeline runs;
  ours, shingling only   the shingle_hashes half of the above (where the time goes);
  numpy bound     the same hashing work with the text side precomputed UNTIMED (the words of each
                  batch, the index of each document's windows): timed are the word hashes from
                  their bytes (vectorised), the 5-gram rolling mix, the fold to 32 bits, the
                  (128 x shingles) affine products and np.minimum reduction; what ours could
                  reach if normalising and tokenising text were free;
  datatrove       MinhashDedupSignature (default MinhashConfig: 5-grams, 14 buckets x 8 hashes,
                  xxhash64, its spaCy English word tokenizer) get_shingles + get_signature per
                  document, called directly (no signature files written: a lower bound on its step);
  datasketch      MinHash.bulk(num_perm=128), its default sha1 hash, over the byte strings of our
                  5-grams (building them is timed).
Writes bench/results/minhash_throughput.md (git-ignored) and prints it.
"""

import argparse
import glob
import gzip
import json
import os
import tempfile

import numpy as np

from bench.common import RESULTS_DIR, ROOT, best_of, command_line, header, profile_top, require_peers, write_report
from pipeline.text.dedup import minhash
from pipeline.text.dedup.minhash import MinHashConfig

RESULTS = os.path.join(RESULTS_DIR, "minhash_throughput.md")
CFG = MinHashConfig()
BATCH = CFG.batch_size  # 256
SHINGLING = minhash.Shingling(unit=CFG.shingle, n=CFG.ngram)
M = np.uint64(0x100000001B3)  # the rolling multiplier of minhash.shingle_hashes


def sample_texts() -> list[str]:
    texts = []
    for path in sorted(glob.glob(os.path.join(ROOT, "pipeline", "sample", "data", "*.jsonl.gz"))):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            texts += [json.loads(line)["text"] for line in f if line.strip()]
    return texts


def batches(texts: list[str]) -> list[list[str]]:
    return [texts[i : i + BATCH] for i in range(0, len(texts), BATCH)]


def run_ours(texts: list[str], a, b, shingling_only: bool = False) -> int:
    docs = 0
    for batch in batches(texts):
        shingles = minhash.shingle_hashes(batch, SHINGLING)
        if not shingling_only:
            docs += len(minhash.signatures(shingles, a, b))
    return docs


def bound_inputs(texts: list[str]) -> list[tuple]:
    """Untimed, per batch: (the words, index of every valid 5-gram window, chunks). A chunk is
    (first window, end, document offsets in it): whole documents up to 8192 windows (ours'
    _ROWS_PER_CHUNK), or one longer document alone. Documents under 5 words are left out."""
    out, n = [], CFG.ngram
    for batch in batches(texts):
        units = [u for u in (minhash._units(t, SHINGLING) for t in batch) if len(u) >= n]
        sizes = np.array([len(u) for u in units], dtype=np.int64)
        words = [w for u in units for w in u]
        windows = sizes - n + 1
        idx = np.concatenate([np.arange(s, s + w) for s, w in zip(np.r_[0, np.cumsum(sizes)[:-1]], windows)])
        chunks, lo, offsets, pos = [], 0, [], 0
        for w in windows.tolist():
            if offsets and pos + w - lo > minhash._ROWS_PER_CHUNK:
                chunks.append((lo, pos, np.array(offsets) - lo))
                lo, offsets = pos, []
            offsets.append(pos)
            pos += w
        chunks.append((lo, pos, np.array(offsets) - lo))
        out.append((words, idx, chunks))
    return out


def run_bound(inputs, a, b) -> int:
    docs, step = 0, minhash._ROWS_PER_CHUNK
    with np.errstate(over="ignore"):
        for words, idx, chunks in inputs:
            hashes = minhash.unit_hashes(words)
            combined = hashes
            for k in range(1, CFG.ngram):
                combined = combined[:-1] * M + hashes[k:]
            flat = combined[idx]
            keys = ((flat ^ (flat >> np.uint64(32))) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
            for lo, hi, offsets in chunks:
                if len(offsets) == 1 and hi - lo > step:  # one long document: min over pieces
                    mins = np.full(len(a), 0xFFFFFFFF, dtype=np.uint32)
                    for start in range(lo, hi, step):
                        hashed = a[:, None] * keys[None, start : min(hi, start + step)]
                        hashed += b[:, None]
                        np.minimum(mins, hashed.min(axis=1), out=mins)
                    docs += 1
                    continue
                hashed = a[:, None] * keys[None, lo:hi]
                hashed += b[:, None]
                docs += np.minimum.reduceat(hashed, offsets, axis=1).shape[1]
    return docs


def run_datatrove(step, texts: list[str]) -> int:
    docs = 0
    for text in texts:
        shingles = step.get_shingles(text)
        if shingles.size:
            step.get_signature(shingles)
        docs += 1
    return docs


def run_datasketch(texts: list[str]) -> int:
    from datasketch import MinHash

    n, docs = CFG.ngram, 0
    for batch in batches(texts):
        grams = []
        for text in batch:
            u = minhash._units(text, SHINGLING)
            grams.append([" ".join(u[i : i + n]).encode("utf-8") for i in range(max(1, len(u) - n + 1))])
        docs += len(MinHash.bulk(grams, num_perm=CFG.num_perm))
    return docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="append cProfile's top functions of ours")
    args = parser.parse_args()
    require_peers(("datatrove",))  # one line naming the install, not an ImportError

    from datatrove.pipeline.dedup.minhash import MinhashDedupSignature
    from datatrove.utils.hashing import HashConfig

    texts = sample_texts()
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    a, b = minhash.permutations(CFG.num_perm, CFG.seed)
    step = MinhashDedupSignature(output_folder=tempfile.mkdtemp())  # nothing is written: run() is not called
    inputs = bound_inputs(texts)
    n_shingles = sum(len(idx) for _, idx, _ in inputs)
    assert run_bound(inputs, a, b) == sum(len(minhash._units(t, SHINGLING)) >= CFG.ngram for t in texts)
    run_ours(texts[:300], a, b), run_datatrove(step, texts[:50]), run_datasketch(texts[:50])  # warm-up: spaCy load, imports

    variants = {
        "ours: shingle_hashes + signatures (pipeline path)": lambda: run_ours(texts, a, b),
        "ours: shingle_hashes only": lambda: run_ours(texts, a, b, shingling_only=True),
        "numpy bound: word hashes + 5-gram mix + 128 permutations + min (words precomputed)": lambda: run_bound(inputs, a, b),
        f"datatrove MinhashDedupSignature get_shingles + get_signature ({step.config.num_buckets}x{step.config.hashes_per_bucket}, {HashConfig().hash_fc})": lambda: (
            run_datatrove(step, texts)
        ),
        "datasketch MinHash.bulk (sha1, 128 perm), shingle strings built": lambda: run_datasketch(texts),
    }
    timings = {name: best_of(args.repeat, fn) for name, fn in variants.items()}
    names = list(variants)
    pick = lambda prefix: next(timings[n][0] for n in names if n.startswith(prefix))
    ours, bound, dt = pick("ours: shingle_hashes + signatures"), pick("numpy bound"), pick("datatrove")

    out = header("MinHash signature throughput, one worker", command_line("bench.bench_minhash", parser, args)) + [
        f"- corpus: the built-in sample, {len(texts)} documents (all sources and languages), {mb:.2f} MB of text (UTF-8), "
        f"{n_shingles:,} word 5-grams; in memory; best of {args.repeat}; batches of {BATCH}",
        f"- ours: {CFG.num_perm} permutations, seed {CFG.seed}, word {CFG.ngram}-grams",
        "",
        "| variant | seconds | MB/s | docs/s | ours / this |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, (seconds, _) in timings.items():
        out.append(f"| {name} | {seconds:.3f} | {mb / seconds:.2f} | {len(texts) / seconds:,.0f} | {seconds / ours:.2f} |")
    shingling = timings[names[1]][0]
    out += [
        "",
        f"Where ours spends its time: shingling (tokenise, word hashes, 5-gram mix) {shingling:.2f} s "
        f"({shingling / ours:.0%}), signatures {ours - shingling:.2f} s ({(ours - shingling) / ours:.0%}).",
        f"Target ours >= 10x datatrove: {'met' if dt / ours >= 10 else 'NOT met'} ({dt / ours:.1f}x).",
        f"Target ours >= 0.5x the numpy bound: {'met' if bound / ours >= 0.5 else 'NOT met'} ({bound / ours:.2f}x).",
    ]
    if args.profile:
        out += ["", "## cProfile, ours, top by own time", "", "```", profile_top(lambda: run_ours(texts, a, b), 14).strip(), "```"]
    write_report(RESULTS, "\n".join(out) + "\n")


if __name__ == "__main__":
    main()
