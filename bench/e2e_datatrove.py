"""End to end against datatrove: the same real-text corpus through datatrove's local executor and
through our pipeline on the DirectRunner, the same number of processes; and the raw-library bound.

    python -m bench.e2e_datatrove [--mb 100] [--workers 2] [--dt-full] [--bound-mb 10] [--profile-mb 5]

Needs bench/.venv-datatrove (bash bench/setup_datatrove.sh); datatrove runs there as a
subprocess (bench/dt_pipeline.py). Corpus: bench.corpus (real text, --mb MB), split round-robin
into --shards gzipped JSONL files that both sides read.
Runs, each a fresh process tree, timed by wall clock from start to exit (start-up included):
  datatrove, filters only (the issue's anchor): JsonlReader -> GopherQualityFilter ->
      GopherRepetitionFilter -> LanguageFilter (lid.176.ftz, our 9 languages, 0.65) -> JsonlWriter,
      LocalPipelineExecutor(tasks=--shards, workers=--workers)
  datatrove, like-for-like (--dt-full): the above, then MinHash dedup (4 stages) and
      DocumentTokenizer with the tokenizer.json our default run trained (given, not trained)
  ours, default config: every stage (language, quality, exact + paragraph + MinHash dedup,
      toxicity, KenLM perplexity, mixture, BPE training on the run's documents, tokenization into
      Arrow shards), DirectRunner --direct_num_workers=W --direct_running_mode=multi_processing
  ours, like datatrove's filters: language (9 languages, 0.65) + Gopher quality + repetition on
      every source, nothing else, documents written
  ours, default config with the tokenizer given: the same, with tokenizer.path set to the
      tokenizer.json the default run trained, so no BPE is trained (as datatrove's like-for-like
      run is given it): the same documents, rejections and token shards as the default run (the
      manifest and stats.json differ in the config they echo), less the training step
Peak memory: the largest sum of RSS over the whole process tree (parent and every descendant),
sampled from /proc every 0.2 s (pages shared between forked processes count once per process,
so this is an upper bound); and the largest single process (ru_maxrss from wait4).
Bound (the issue's definition): each raw library on every document of the first --bound-mb MB
of the same corpus, one process, best of --repeat: fastText predict (batches of 256) + KenLM
Model.score per line (the shipped model of the document's language, English for others) +
MinHash numpy lower bound (bench.bench_minhash.run_bound: 128 permutations of word 5-grams,
words precomputed) + tokenizers encode_batch (batches of 256, our run's tokenizer.json) + our
quality rules (the default config's web families: Gopher repetition + quality, C4, FineWeb, on
every document). Bound MB/s = W / (sum of seconds per MB). Our pipeline runs later stages only
on what earlier stages keep, so this bound charges more work than ours does: it is a loose
(easy) bound, as the issue defines it.
"""

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import defaultdict

from bench.common import RESULTS_DIR, ROOT, command_line, header, profile_top, write_report
from bench.corpus import build, describe

RESULTS = os.path.join(RESULTS_DIR, "e2e_datatrove.md")
DT_VENV = os.path.join(ROOT, "bench", ".venv-datatrove")
DT_PYTHON = os.path.join(DT_VENV, "bin", "python")
WORK = os.path.join(RESULTS_DIR, "e2e")
# Issue 14's targets: every stage vs datatrove's filters, the same vs the raw-library bound, and
# language + Gopher only vs datatrove's filters.
E2E_GOAL, BOUND_GOAL, LIKE_GOAL = 2.0, 0.6, 4.0
PAGE = os.sysconf("SC_PAGE_SIZE")
LIKE_CONFIG = """\
# ours, close to datatrove's filters-only pipeline: language + Gopher quality + repetition
language:
  keep: [de, en, es, fr, it, ja, pt, ru, zh]
  threshold: 0.65
  thresholds: {}
  exempt_sources: []
quality:
  apply: {"*": [gopher_quality, gopher_repetition]}
dedup:
  methods: []
toxicity:
  enabled: false
perplexity:
  enabled: false
output:
  write_tokens: false
  rejected_text: false
"""


# ---------------------------------------------------------------- measuring a process tree


def _tree_rss(root: int) -> tuple[int, int]:
    """(RSS of root and all its descendants, RSS of root alone), in bytes."""
    children, rss = defaultdict(list), {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        pid = int(name)
        children[int(fields[1])].append(pid)
        rss[pid] = int(fields[21]) * PAGE
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack += children.get(pid, [])
    return total, rss.get(root, 0)


def measure(cmd: list[str], log: str, env=None) -> dict:
    """Run cmd to its end: wall seconds, peak tree RSS (MiB, sampled), the top process's own RSS
    at that moment (for our pipeline: the runner; the rest is its workers), largest process (MiB), rc."""
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, "w") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
        peak, done = [(0, 0)], threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], _tree_rss(proc.pid))
                done.wait(0.2)

        t = threading.Thread(target=sample, daemon=True)
        t.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        t.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    tree, top = peak[0]
    return {
        "seconds": wall,
        "peak_tree_mib": tree / 2**20,
        "top_at_peak_mib": top / 2**20,
        "max_process_mib": usage.ru_maxrss / 1024,
        "rc": proc.returncode,
        "log": log,
    }


def tail(path: str, n: int = 15) -> str:
    with open(path, errors="replace") as f:
        return "".join(f.readlines()[-n:])


# ---------------------------------------------------------------- corpus


def shard_corpus(mb: float, shards: int) -> tuple[str, dict]:
    path, meta = build(mb)
    folder = os.path.join(RESULTS_DIR, "corpus", f"shards-{mb:g}MB-{shards}")
    if not os.path.exists(os.path.join(folder, ".done")):
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        outs = [gzip.open(os.path.join(folder, f"part-{i:05d}.jsonl.gz"), "wt", encoding="utf-8", compresslevel=1) for i in range(shards)]
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for i, line in enumerate(f):
                outs[i % shards].write(line)
        for o in outs:
            o.close()
        open(os.path.join(folder, ".done"), "w").close()
    return folder, meta


# ---------------------------------------------------------------- the runs


def ours_cmd(inputs: str, output: str, workers: int, config: str | None, mode: str = "multi_processing") -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "pipeline.run",
        "--runner=DirectRunner",
        "--input",
        inputs,
        "--output",
        output,
        "--overwrite",
        f"--direct_num_workers={workers}",
        f"--direct_running_mode={mode}",
    ]
    return cmd + (["--config", config] if config else [])


def run_ours(name: str, folder: str, workers: int, config_text: str | None) -> dict:
    out = os.path.join(WORK, name)
    shutil.rmtree(out, ignore_errors=True)
    config = None
    if config_text:
        config = os.path.join(WORK, f"{name}.yaml")
        os.makedirs(WORK, exist_ok=True)
        with open(config, "w") as f:
            f.write(config_text)
    r = measure(ours_cmd(os.path.join(folder, "*.jsonl.gz"), out, workers, config), os.path.join(WORK, f"{name}.log"))
    r["output"] = out
    if r["rc"] == 0:
        with open(os.path.join(out, "stats.json")) as f:
            stats = json.load(f)
        acc = stats.get("accounting", {})  # keys read defensively: stats.json is still evolving
        r["docs_read"] = acc.get("records_read", acc.get("read"))
        r["docs_kept"] = acc.get("kept")
    return r


def run_dt(mode: str, folder: str, workers: int, shards: int, tokenizer: str | None) -> dict:
    from pipeline.text.langid import default_model_path

    work = os.path.join(WORK, f"dt-{mode}")
    shutil.rmtree(work, ignore_errors=True)
    cmd = [
        DT_PYTHON,
        os.path.join(ROOT, "bench", "dt_pipeline.py"),
        "--mode",
        mode,
        "--input",
        folder,
        "--work",
        work,
        "--workers",
        str(workers),
        "--tasks",
        str(shards),
        "--lid-model",
        default_model_path(),
    ]
    if tokenizer:
        cmd += ["--tokenizer", tokenizer]
    env = dict(os.environ, DATATROVE_COLORIZE_LOGS="0", HF_HUB_OFFLINE="1")
    r = measure(cmd, os.path.join(WORK, f"dt-{mode}.log"), env=env)
    if r["rc"] == 0:
        with open(r["log"], errors="replace") as f:
            result = next(json.loads(line[len("DT_RESULT ") :]) for line in f if line.startswith("DT_RESULT "))
        r.update(result)
    return r


# ---------------------------------------------------------------- the bound


def raw_bound(corpus_path: str, bound_mb: float, tokenizer_path: str, repeat: int) -> dict:
    """Seconds per MB of each raw library on the first bound_mb MB of the corpus (see docstring)."""
    import fasttext
    import kenlm
    from tokenizers import Tokenizer

    from bench.bench_langid import run_raw as fasttext_raw
    from bench.bench_minhash import bound_inputs, run_bound
    from bench.common import best_of_each
    from bench.quality_steps import QualitySteps
    from pipeline.records import Document
    from pipeline.stages.perplexity import shipped_models
    from pipeline.text.dedup import minhash
    from pipeline.text.dedup.minhash import MinHashConfig
    from pipeline.text.quality.config import QualityConfig

    rows, size = [], 0
    with gzip.open(corpus_path, "rt", encoding="utf-8") as f:
        for line in f:
            if size >= bound_mb * 1e6:
                break
            r = json.loads(line)
            rows.append(r)
            size += len(r["text"].encode("utf-8"))
    mb = size / 1e6
    texts = [r["text"] for r in rows]
    from pipeline.text.langid import default_model_path

    ft = fasttext.load_model(default_model_path())
    langs = []
    for i in range(0, len(texts), 256):  # untimed: each document's language, for KenLM and our rules
        labels, _ = ft.predict([t.replace("\n", " ") for t in texts[i : i + 256]], k=1)
        langs += [lab[0].replace("__label__", "") for lab in labels]
    models = {lang: kenlm.Model(path) for lang, path in shipped_models().items()}
    jobs = [(models.get(lang, models["en"]), t) for lang, t in zip(langs, texts)]

    def kenlm_raw():
        for model, text in jobs:
            score = model.score
            for line in text.split("\n"):
                score(line)

    mcfg = MinHashConfig()
    a, b = minhash.permutations(mcfg.num_perm, mcfg.seed)
    mh_inputs = bound_inputs(texts)  # untimed: the words of each batch (see bench_minhash)
    tok = Tokenizer.from_file(tokenizer_path)
    parts = [texts[i : i + 256] for i in range(0, len(texts), 256)]
    qcfg = QualityConfig(apply={"*": ["gopher_repetition", "gopher_quality", "c4", "fineweb"]})
    rules = QualitySteps(qcfg, qcfg.batch_size)
    docs = [Document(id=str(i), text=t, source="web", lang=lang) for i, (t, lang) in enumerate(zip(texts, langs))]

    def tok_raw():
        for p in parts:
            tok.encode_batch(p, add_special_tokens=False)

    fns = {
        "fastText predict (lid.176.ftz, batches of 256)": lambda: fasttext_raw(ft, texts),
        "KenLM Model.score per line (shipped 3-gram of the doc's language)": kenlm_raw,
        "MinHash numpy lower bound (128 perm, word 5-grams)": lambda: run_bound(mh_inputs, a, b),
        "tokenizers encode_batch (our run's BPE, batches of 256)": tok_raw,
        "our quality rules (Gopher rep. + quality, C4, FineWeb; no early exit)": lambda: rules.run(docs, early_exit=False),
    }
    best = best_of_each(repeat, fns)
    return {"mb": mb, "docs": len(texts), "seconds": best, "per_mb": {k: v / mb for k, v in best.items()}}


# ---------------------------------------------------------------- profile


def profile_ours(corpus_path: str, profile_mb: float, top: int = 25) -> str:
    """cProfile of our default pipeline, 1 worker, in_memory, on the first profile_mb MB."""
    from pipeline import run as pipeline_run

    part = os.path.join(WORK, f"profile-{profile_mb:g}MB.jsonl.gz")
    with gzip.open(corpus_path, "rt", encoding="utf-8") as f, gzip.open(part, "wt", encoding="utf-8", compresslevel=1) as out:
        size = 0
        for line in f:
            if size >= profile_mb * 1e6:
                break
            size += len(json.loads(line)["text"].encode("utf-8"))
            out.write(line)
    out_dir = os.path.join(WORK, "profile-run")
    argv = ["--runner=DirectRunner", "--input", part, "--output", out_dir, "--overwrite", "--direct_num_workers=1", "--direct_running_mode=in_memory"]
    return profile_top(lambda: pipeline_run.main(argv), n=top, sort=("tottime", "cumulative"))


# ---------------------------------------------------------------- report


def mbps(mb: float, r: dict) -> float:
    return mb / r["seconds"] if r.get("rc") == 0 else float("nan")


def run(mb: float, workers: int, shards: int, dt_full: bool, bound_mb: float, profile_mb: float, repeat: int, command: str) -> tuple[str, dict]:
    load_before = os.getloadavg()
    folder, meta = shard_corpus(mb, shards)
    text_mb = meta["text_bytes"] / 1e6
    if not os.path.exists(DT_PYTHON):
        subprocess.run(["bash", os.path.join(ROOT, "bench", "setup_datatrove.sh")], check=True)
    runs = {}
    runs["dt_filters"] = run_dt("filters", folder, workers, shards, None)
    runs["ours_like"] = run_ours("ours-like", folder, workers, LIKE_CONFIG)
    runs["ours_default"] = run_ours("ours-default", folder, workers, None)
    tokenizer = os.path.join(runs["ours_default"].get("output", ""), "tokens", "tokenizer.json")
    if os.path.exists(tokenizer):
        given = os.path.join(WORK, "trained-tokenizer.json")
        shutil.copyfile(tokenizer, given)
        runs["ours_given"] = run_ours("ours-given-tokenizer", folder, workers, f"tokenizer:\n  path: {json.dumps(given)}\n")
    if dt_full and os.path.exists(tokenizer):
        runs["dt_full"] = run_dt("full", folder, workers, shards, tokenizer)
    bound = None
    if os.path.exists(tokenizer):
        bound = raw_bound(build(mb)[0], bound_mb, tokenizer, repeat)
    dt_v = subprocess.run(
        [
            DT_PYTHON,
            "-c",
            "import importlib.metadata as m; print(', '.join(d + ' ' + m.version(d) for d in ('datatrove', 'spacy', 'fasttext-numpy2-wheel', 'tokenizers')))",
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()

    s = {k: mbps(text_mb, r) for k, r in runs.items()}
    e2e = s["ours_default"] / s["dt_filters"]
    like = s["ours_like"] / s["dt_filters"]
    full = s["ours_default"] / s["dt_full"] if "dt_full" in s else None
    bound_mbps = workers / sum(bound["per_mb"].values()) if bound else float("nan")
    bound_ratio = s["ours_default"] / bound_mbps if bound else float("nan")
    summary = {
        "e2e_ratio": e2e,
        "like_ratio": like,
        "full_ratio": full,
        "bound_ratio": bound_ratio,
        "bound_mbps": bound_mbps,
        "mbps": s,
        "text_mb": text_mb,
        "workers": workers,
    }
    verdict = "faster" if e2e >= 1 else "slower"
    headline = (
        f"**Our whole pipeline (all stages, tokenization included) ran at {s['ours_default']:.2f} MB/s, "
        f"{e2e:.2f}x datatrove's filters-only pipeline ({s['dt_filters']:.2f} MB/s) on the same {text_mb:.0f} MB with {workers} workers: "
        f"{verdict} than datatrove (goal: >= {E2E_GOAL:g}x, {'met' if e2e >= E2E_GOAL else 'NOT met'}); "
        f"{bound_ratio:.2f} of the raw-library bound ({bound_mbps:.2f} MB/s; goal >= {BOUND_GOAL:g}, {'met' if bound_ratio >= BOUND_GOAL else 'NOT met'}); "
        f"language + Gopher only {like:.2f}x datatrove (goal: >= {LIKE_GOAL:g}x, {'met' if like >= LIKE_GOAL else 'NOT met'}).**"
    )
    lines = header(
        "End to end: ours vs datatrove, and the raw-library bound", command, versions=("apache-beam", "fasttext", "kenlm", "tokenizers", "numpy")
    ) + [
        f"- datatrove side (bench/.venv-datatrove, subprocess): {dt_v}",
        f"- corpus: {describe(meta)}; split round-robin into {shards} files read by both sides",
        f"- workers: {workers} processes on both sides; load average (1/5/15 min) before: {load_before[0]:.2f} / {load_before[1]:.2f} / {load_before[2]:.2f}, after: {os.getloadavg()[0]:.2f}",
        "- MB = 10^6 bytes of UTF-8 document text read; wall clock from process start to exit (imports, model loading, start-up included)",
        "",
        headline,
        "",
        "| run | seconds | MB/s | docs/s (read) | docs in -> out | peak RSS, process tree (MiB) | largest process (MiB) | ratio to datatrove filters-only |",
        "|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    labels = {
        "dt_filters": "datatrove: read -> Gopher quality -> Gopher repetition -> language -> write (anchor)",
        "dt_full": "datatrove: the above + MinHash dedup (4 stages) + DocumentTokenizer",
        "ours_like": "ours: language + Gopher quality + repetition (like datatrove's filters)",
        "ours_default": "ours: default config, every stage, tokenization included",
        "ours_given": "ours: the same with that tokenizer given (tokenizer.path), no BPE training",
    }
    n_docs = meta["docs"]
    for key in ("dt_filters", "dt_full", "ours_like", "ours_default", "ours_given"):
        if key not in runs:
            continue
        r = runs[key]
        if r["rc"] != 0:
            lines.append(f"| {labels[key]} | FAILED rc={r['rc']} (log {os.path.relpath(r['log'], ROOT)}) | | | | | | |")
            continue
        out_docs = r.get("docs_kept", r.get("docs_deduped", r.get("docs_filtered", "?")))
        lines.append(
            f"| {labels[key]} | {r['seconds']:.1f} | {s[key]:.2f} | {n_docs / r['seconds']:.0f} | {n_docs} -> {out_docs} | "
            f"{r['peak_tree_mib']:.0f} | {r['max_process_mib']:.0f} | {s[key] / s['dt_filters']:.2f} |"
        )
    if "dt_full" in runs and runs["dt_full"].get("stages"):
        lines += [
            "",
            "datatrove like-for-like, seconds per executor stage: "
            + "; ".join(f"{k} {v:.1f}" for k, v in runs["dt_full"]["stages"].items())
            + (f". **Ours (every stage) vs datatrove like-for-like: {full:.2f}x.**" if full else "")
            + (
                f" Ours with the tokenizer given, as datatrove's run is: {s['ours_given'] / s['dt_full']:.2f}x."
                if "ours_given" in s and runs["ours_given"]["rc"] == 0
                else ""
            ),
        ]
    if "ours_given" in s and runs["ours_given"]["rc"] == 0:
        lines += [
            "",
            f"Training the BPE tokenizer in the run costs {runs['ours_default']['seconds'] - runs['ours_given']['seconds']:.1f} s of the default run "
            f"(default {runs['ours_default']['seconds']:.1f} s, tokenizer given {runs['ours_given']['seconds']:.1f} s: "
            f"{s['ours_given'] / s['dt_filters']:.2f}x datatrove's filters-only pipeline).",
        ]
    if bound:
        lines += [
            "",
            f"## Raw-library bound (first {bound['mb']:.1f} MB of the same corpus, {bound['docs']} docs, one process, best of {repeat})",
            "",
            "| library | seconds | s per MB | MB/s alone |",
            "|---|---:|---:|---:|",
        ]
        for k, sec in bound["seconds"].items():
            lines.append(f"| {k} | {sec:.2f} | {bound['per_mb'][k]:.3f} | {1 / bound['per_mb'][k]:.2f} |")
        total = sum(bound["per_mb"].values())
        lines += [
            f"| **sum** | | {total:.3f} | {1 / total:.2f} |",
            "",
            f"Bound with {workers} workers: {workers} / {total:.3f} = **{bound_mbps:.2f} MB/s**; ours (default) {s['ours_default']:.2f} MB/s = "
            f"**{bound_ratio:.2f} of the bound** (goal >= {BOUND_GOAL:g}). The bound charges every library with every byte; our pipeline runs "
            "later stages only on what earlier ones keep, and also does exact + paragraph dedup, toxicity, mixture, BPE training, "
            "Parquet/Arrow writing and Beam's own shuffles, which the bound leaves out.",
        ]
    summary["profile"] = None
    if profile_mb > 0 and (e2e < E2E_GOAL or bound_ratio < BOUND_GOAL):
        prof = profile_ours(build(mb)[0], profile_mb)
        summary["profile"] = prof
        lines += [
            "",
            f"## Profile: ours, default config, 1 worker, in_memory, first {profile_mb:g} MB of the corpus (cProfile)",
            "",
            "```",
            prof.strip()[:12000],
            "```",
        ]
    return "\n".join(lines) + "\n", summary


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.e2e_datatrove", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=100.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--dt-full", action="store_true", help="also datatrove's MinHash dedup + tokenizer (like-for-like)")
    parser.add_argument("--bound-mb", type=float, default=10.0)
    parser.add_argument("--profile-mb", type=float, default=5.0, help="0: no profile")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    text, _ = run(
        args.mb,
        args.workers,
        args.shards,
        args.dt_full,
        args.bound_mb,
        args.profile_mb,
        args.repeat,
        command_line("bench.e2e_datatrove", parser, args),
    )
    write_report(RESULTS, text)


if __name__ == "__main__":
    main()
