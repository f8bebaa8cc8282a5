"""End-to-end dedup wall time and peak memory: `python -m pipeline.run` on the DirectRunner, 1 worker.

    python -m bench.bench_dedup_e2e [--copies 8] [--exact-copies 10] [--skip-exact-baseline]

Each run is a fresh process: `python -m pipeline.run --runner=DirectRunner --direct_num_workers=1
--direct_running_mode=in_memory --input <corpus> --output <tmp> --config <yaml>`, with a config
that applies no quality family and keeps every language (threshold 0), so a run is read + language
ID + dedup + writing; the same run with `dedup: {methods: []}` is the baseline, and the difference
is dedup's share. Wall time is the child's (incl. interpreter start and imports); peak memory is
the child's ru_maxrss from os.wait4. One run per row (each is minutes; no best-of).
Corpora (built once under /tmp/dedupbench, untimed):
  1x             the built-in sample (pipeline/sample/data/*.jsonl.gz);
  Nx perturbed   --copies copies of the sample as distinct files; copy 0 is the sample, in copy c
                 each document has 1% of its words (at least one) replaced by another word of the
                 same document (random.Random seeded by copy, source and line): near duplicates
                 (long documents stay above Jaccard 0.8, short ones fall below), none exact;
  Mx exact       --exact-copies verbatim copies as distinct files: exact duplicates dominate (the
                 exact stage drops (M-1)/M of the documents before MinHash).
Writes bench/results/dedup_e2e.md (git-ignored) and prints it.
"""

import argparse
import glob
import gzip
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time

from bench.common import RESULTS_DIR, ROOT, command_line, header, write_report

RESULTS = os.path.join(RESULTS_DIR, "dedup_e2e.md")
WORK = "/tmp/dedupbench"
SAMPLE = sorted(glob.glob(os.path.join(ROOT, "pipeline", "sample", "data", "*.jsonl.gz")))
CONFIG = "language: {keep: [], threshold: 0.0, thresholds: {}}\nquality: {apply: {'*': []}}\n"
_SPACE = re.compile(r"(\s+)")


def perturb(text: str, rng: random.Random, rate: float = 0.01) -> str:
    parts = _SPACE.split(text)  # words at even positions, the whitespace between them kept
    words = [i for i in range(0, len(parts), 2) if parts[i]]
    if len(words) < 2:
        return text + " x"
    for i in rng.sample(words, max(1, round(rate * len(words)))):
        parts[i] = parts[rng.choice(words)]
    return "".join(parts)


def build_corpus(name: str, copies: int, near: bool) -> tuple[str, float]:
    """Folder of `copies` copies of the sample (see the module docstring), and its text MB."""
    folder = os.path.join(WORK, name)
    done = folder + ".MB"  # outside the folder: the run reads every file in it
    if not os.path.exists(done):  # built once; delete WORK to rebuild
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        total = 0
        for path in SAMPLE:
            with gzip.open(path, "rt", encoding="utf-8") as f:
                rows = [json.loads(line) for line in f if line.strip()]
            source = os.path.basename(path).split(".")[0]
            for c in range(copies):
                with gzip.open(os.path.join(folder, f"copy{c:02d}-{source}.jsonl.gz"), "wt", encoding="utf-8", compresslevel=1) as out:
                    for i, row in enumerate(rows):
                        if near and c > 0:
                            row = dict(row, text=perturb(row["text"], random.Random(f"{c}:{source}:{i}")))
                        total += len(row["text"].encode("utf-8"))
                        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        with open(done, "w") as f:
            f.write(f"{total / 1e6}")
    with open(done) as f:
        return folder, float(f.read())


def run_pipeline(inputs: list[str], dedup: bool) -> dict:
    """One fresh `python -m pipeline.run`: wall seconds, peak RSS (MiB), dedup summary lines."""
    config = os.path.join(WORK, "dedup.yaml" if dedup else "nodedup.yaml")
    with open(config, "w") as f:
        f.write(CONFIG + ("" if dedup else "dedup: {methods: []}\n"))
    output = os.path.join(WORK, "run")
    cmd = [
        sys.executable,
        "-m",
        "pipeline.run",
        "--runner=DirectRunner",
        "--direct_num_workers=1",
        "--direct_running_mode=in_memory",
        "--output",
        output,
        "--overwrite",
        "--config",
        config,
    ]
    for path in inputs:
        cmd += ["--input", path]
    log = open(os.path.join(WORK, "run.log"), "w+")
    start = time.perf_counter()
    child = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    log.seek(0)
    text = log.read()
    if child.returncode != 0:
        raise SystemExit(f"pipeline.run failed ({child.returncode}):\n{text[-3000:]}")
    shutil.rmtree(output, ignore_errors=True)
    lines = [l.split() for l in text.splitlines() if l.startswith("dedup.")]
    counts = {l[0].split(".")[1]: (int(l[2].replace(",", "")), int(l[4].replace(",", ""))) for l in lines}  # stage: (in, rejected)
    read = re.search(r"accounting: read ([\d,]+)", text)
    return {"seconds": seconds, "rss": usage.ru_maxrss / 1024, "counts": counts, "read": int(read.group(1).replace(",", ""))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=8, help="copies in the near-duplicate corpus (8: about 100 MB)")
    parser.add_argument("--exact-copies", type=int, default=10)
    parser.add_argument("--skip-exact-baseline", action="store_true", help="no dedup-off run on the exact-copies corpus")
    args = parser.parse_args()

    os.makedirs(WORK, exist_ok=True)
    one, one_mb = build_corpus("x1", 1, near=False)
    near, near_mb = build_corpus(f"x{args.copies}-near", args.copies, near=True)
    exact, exact_mb = build_corpus(f"x{args.exact_copies}-exact", args.exact_copies, near=False)
    corpora = [
        ("1x sample", one, one_mb, True),
        (f"{args.copies}x perturbed (near duplicates)", near, near_mb, True),
        (f"{args.exact_copies}x verbatim (exact duplicates)", exact, exact_mb, not args.skip_exact_baseline),
    ]
    rows = []
    for label, folder, mb, baseline in corpora:
        with_dedup = run_pipeline([folder], dedup=True)
        without = run_pipeline([folder], dedup=False) if baseline else None
        rows.append((label, mb, with_dedup, without))
        print(label, with_dedup, without, flush=True)

    cmd = command_line("bench.bench_dedup_e2e", parser, args)
    out = header("End-to-end dedup on the DirectRunner (1 worker): wall time and peak memory", cmd) + [
        "- runs: `python -m pipeline.run --runner=DirectRunner --direct_num_workers=1 --direct_running_mode=in_memory`, "
        "config: no quality family, every language kept (read + langid + dedup + write); baseline: the same with `dedup: {methods: []}`",
        "- one run per cell, each a fresh process; peak RSS = the child's ru_maxrss (os.wait4)",
        "",
        "| corpus | docs | MB text | wall s, dedup | wall s, no dedup | dedup's share s | dedup MB/s | peak RSS MiB, dedup | peak RSS MiB, no dedup | dropped per stage (of docs in) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for label, mb, d, n in rows:
        share = d["seconds"] - n["seconds"] if n else None
        stages = ", ".join(f"{name} {dropped:,} of {n_in:,}" for name, (n_in, dropped) in d["counts"].items())
        out.append(
            f"| {label} | {d['read']:,} | {mb:.1f} | {d['seconds']:.1f} | {n['seconds']:.1f} | {share:.1f} | {mb / share:.2f} | "
            if n
            else f"| {label} | {d['read']:,} | {mb:.1f} | {d['seconds']:.1f} | - | - | - | "
        )
        out[-1] += f"{d['rss']:,.0f} | {n['rss']:,.0f} | {stages} |" if n else f"{d['rss']:,.0f} | - | {stages} |"
    write_report(RESULTS, "\n".join(out) + "\n")


if __name__ == "__main__":
    main()
