"""Scaling: our default pipeline on 1x, 4x, 16x a base size of the real-text corpus (5, 20, 80 MB).

    python -m bench.scaling [--base-mb 5] [--workers 2]

Each size is a prefix of the same deterministic document order (bench.corpus), so a larger
corpus adds new real documents, never copies. Same runner and measuring as bench.e2e_datatrove
(DirectRunner multi_processing, --workers processes; wall clock from process start to exit;
peak RSS summed over the process tree, sampled every 0.2 s, and the largest single process).
Linear time: seconds per MB stays flat (the marginal cost, (t_last - t_first) / (MB_last -
MB_first), separates the fixed start-up cost). Memory: the marginal peak RSS in MiB per MB of
input between consecutive sizes, the slope the target bounds (<= 4 MiB per MB); a ratio such as
"grows less than the input" would hide a slope of 64.

A second series runs the same sizes with the tokenizer given (tokenizer.path: the one the largest
default run trained), so no BPE is trained. Training holds tables that grow with its sample, and
the sample stops growing at tokenizer.train_bytes; the two slopes show how much of the default's
is training's, which a larger input does not keep adding, and how much is the rest.
"""

MIB_PER_MB_TARGET = 4.0

import argparse
import json
import os
import shutil

from bench.common import RESULTS_DIR, command_line, header, write_report
from bench.e2e_datatrove import WORK, measure, ours_cmd, shard_corpus

RESULTS = os.path.join(RESULTS_DIR, "scaling.md")


def _series(name: str, base_mb: float, workers: int, shards: int, factors, config: str | None, keep_tokenizer: str | None = None) -> dict:
    """{factor: measure(...) + mb, docs} for one config; keep_tokenizer: copy the last run's
    tokenizer.json there before its output is removed."""
    rows = {}
    for k in factors:
        mb = base_mb * k
        folder, meta = shard_corpus(mb, shards)
        out = os.path.join(WORK, f"scaling-{name}-{mb:g}MB")
        shutil.rmtree(out, ignore_errors=True)
        r = measure(ours_cmd(os.path.join(folder, "*.jsonl.gz"), out, workers, config), os.path.join(WORK, f"scaling-{name}-{mb:g}MB.log"))
        r["mb"], r["docs"] = meta["text_bytes"] / 1e6, meta["docs"]
        rows[k] = r
        trained = os.path.join(out, "tokens", "tokenizer.json")
        if keep_tokenizer and k == factors[-1] and os.path.exists(trained):
            shutil.copyfile(trained, keep_tokenizer)
        shutil.rmtree(out, ignore_errors=True)
    return rows


def run(base_mb: float, workers: int, shards: int, factors=(1, 4, 16)) -> tuple[list[str], dict]:
    tokenizer = os.path.join(WORK, "scaling-tokenizer.json")
    if os.path.exists(tokenizer):
        os.remove(tokenizer)
    rows = _series("default", base_mb, workers, shards, factors, None, keep_tokenizer=tokenizer)
    lines, summary = _table(rows, factors, "default config (every stage)", workers, verdict=True)
    if os.path.exists(tokenizer):
        config = os.path.join(WORK, "scaling-given.yaml")
        with open(config, "w") as f:
            f.write(f"tokenizer:\n  path: {json.dumps(tokenizer)}\n")
        given = _series("given", base_mb, workers, shards, factors, config)
        given_lines, given_summary = _table(
            given, factors, "the same with the tokenizer given (tokenizer.path), no BPE trained", workers, verdict=False
        )
        lines += ["", *given_lines]
        if summary.get("mib_per_mb") is not None and given_summary.get("mib_per_mb") is not None:
            lines += [
                "",
                f"Slope by default {summary['mib_per_mb']:.1f} MiB per MB, without BPE training {given_summary['mib_per_mb']:.1f}: "
                f"the difference is training's, whose sample grows with the input only up to tokenizer.train_bytes.",
            ]
    return lines, summary


def _table(rows: dict, factors, what: str, workers: int, verdict: bool) -> tuple[list[str], dict]:
    base_mb = rows[factors[0]]["mb"]
    lines = [
        f"- {what}; base: {base_mb:.1f} MB of text; {workers} workers (DirectRunner multi_processing)",
        "",
        "| size | MB | docs | seconds | s per MB | time vs 1x (linear = size) | peak RSS, process tree (MiB) | at that peak: runner / workers (MiB) | largest process (MiB) | MiB of RSS per MB added since the size before |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    one, before = rows[factors[0]], None
    for k, r in rows.items():
        if r["rc"] != 0:
            lines.append(f"| {k}x | {r['mb']:.1f} | {r['docs']} | FAILED rc={r['rc']} | | | | | | |")
            continue
        slope = f"{(r['peak_tree_mib'] - before['peak_tree_mib']) / (r['mb'] - before['mb']):.1f}" if before else ""
        lines.append(
            f"| {k}x | {r['mb']:.1f} | {r['docs']} | {r['seconds']:.1f} | {r['seconds'] / r['mb']:.2f} | {r['seconds'] / one['seconds']:.2f} | "
            f"{r['peak_tree_mib']:.0f} | {r['top_at_peak_mib']:.0f} / {r['peak_tree_mib'] - r['top_at_peak_mib']:.0f} | {r['max_process_mib']:.0f} | {slope} |"
        )
        before = r
    summary = {}
    if all(r["rc"] == 0 for r in rows.values()):
        first, last = rows[factors[0]], rows[factors[-1]]
        marginal = (last["seconds"] - first["seconds"]) / (last["mb"] - first["mb"])
        fixed = first["seconds"] - marginal * first["mb"]
        t_growth = last["seconds"] / first["seconds"]
        m_growth = last["peak_tree_mib"] / first["peak_tree_mib"]
        size_growth = last["mb"] / first["mb"]
        slope = (last["peak_tree_mib"] - first["peak_tree_mib"]) / (last["mb"] - first["mb"])
        runner_slope = (last["top_at_peak_mib"] - first["top_at_peak_mib"]) / (last["mb"] - first["mb"])
        summary = {
            "marginal_s_per_mb": marginal,
            "fixed_s": fixed,
            "time_growth": t_growth,
            "mem_growth": m_growth,
            "size_growth": size_growth,
            "mib_per_mb": slope,
        }
        floor = ", BPE training's floor" if verdict else ""
        time_verdict = "about linear" if t_growth <= size_growth * 1.15 else "worse than linear"
        met = "met" if slope <= MIB_PER_MB_TARGET else "NOT met"
        mem_verdict = f"target <= {MIB_PER_MB_TARGET:g}: {met}" if verdict else f"{met} here; the target is on the default config"
        lines += [
            "",
            f"Time: {size_growth:.0f}x the input took {t_growth:.2f}x the time ({time_verdict}); marginal cost "
            f"{marginal:.2f} s per MB, fixed cost about {fixed:.0f} s (start-up, model loading{floor}). "
            f"Memory: {slope:.1f} MiB of peak tree RSS per MB of input from {first['mb']:.0f} to {last['mb']:.0f} MB ({mem_verdict}); "
            f"of it, the runner's RSS at the peak grew {runner_slope:.1f} and the workers' {slope - runner_slope:.1f}.",
        ]
    return lines, summary


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scaling", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-mb", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shards", type=int, default=8)
    args = parser.parse_args()
    lines, _ = run(args.base_mb, args.workers, args.shards)
    write_report(
        RESULTS,
        "\n".join(
            header("Scaling: ours on 1x, 4x, 16x the corpus", command_line("bench.scaling", parser, args), versions=("apache-beam", "numpy")) + lines
        )
        + "\n",
    )


if __name__ == "__main__":
    main()
