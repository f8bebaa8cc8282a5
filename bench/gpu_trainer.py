"""The trainer's GPU throughput: the 125m and 350m presets, bf16, compiled blocks, FSDP2 on one rank.

    python bench/gpu_trainer.py --data OUT/tokens/manifest.json --out gpu_trainer.jsonl
    python bench/gpu_trainer.py --data ... --attention causal,document   # with and without document masking

Each preset is one run of trainer.train itself (its config file, as a subprocess: an OOM or a
compile failure in one leaves the other's result) for --warmup + --steps optimizer steps,
logging every step, no validation, no gradient accumulation (global batch = micro batch). The
timed steps' log.jsonl records give one JSON line per preset, printed and appended to --out:
tokens/s (timed tokens over timed seconds), MFU (PaLM's convention, trainer.flops, against the
device's bf16 peak), peak memory (torch.cuda.max_memory_allocated), the share of step time spent
waiting for data, and the first step's seconds (mostly compilation). A failure is a line too.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # trainer.config, when run as a script from anywhere


def summarize(records: list[dict], warmup: int) -> dict:
    timed = [r for r in records if r["step"] > warmup]
    if not timed:
        raise RuntimeError(f"no step after the {warmup} warm-up steps was logged")
    seconds = sum(r["step_s"] for r in timed)
    tok_s = sum(r["tok_s"] * r["step_s"] for r in timed) / seconds  # every step has the same tokens
    return {
        "tokens_per_s": round(tok_s),
        "mfu": None if timed[0]["mfu"] is None else round(timed[0]["mfu"] * tok_s / timed[0]["tok_s"], 4),
        "max_mem_gb": round(max(r.get("max_mem_gb", 0.0) for r in records), 2),
        "data_wait_share": round(sum(r["data_wait_s"] for r in timed) / seconds, 5),
        "step_s": round(seconds / len(timed), 4),
        "first_step_s": round(records[0]["step_s"], 1),
        "steps_timed": len(timed),
        "final_loss": round(timed[-1]["loss"], 4),
    }


def bench(preset: str, attention: str, args, work: str) -> dict:
    out_dir = os.path.join(work, f"{preset}-{attention}")
    cmd = [
        sys.executable,
        "-m",
        "trainer.train",
        "--config",
        os.path.join(ROOT, "trainer", "configs", f"{preset}.toml"),
        "--data",
        args.data,
        "--out_dir",
        out_dir,
        "--max_steps",
        str(args.warmup + args.steps),
        "--global_batch",
        "0",
        "--log_every",
        "1",
        "--eval_every",
        "0",
        "--val_fraction",
        "0",
        "--checkpoint_every",
        "0",
        "--keep_checkpoints",
        "1",
        "--warmup_steps",
        "10",
        "--attention",
        attention,
    ]
    if args.micro_batch:
        cmd += ["--micro_batch", str(args.micro_batch)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)  # one rank, no torchrun
    with open(os.path.join(work, f"{preset}-{attention}.out"), "w+") as log:
        try:
            done = subprocess.run(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=args.timeout)
            code = done.returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
        log.seek(0)
        tail = log.read()[-1500:]
    if code != 0:
        raise RuntimeError(f"trainer.train exited {code}:\n{tail}")
    with open(os.path.join(out_dir, "log.jsonl")) as f:
        records = [r for r in map(json.loads, f) if "loss" in r]
    return summarize(records, args.warmup)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the pipeline's tokens/manifest.json")
    parser.add_argument("--out", default="gpu_trainer.jsonl", help="result lines are appended here")
    parser.add_argument("--presets", default="125m,350m")
    parser.add_argument("--attention", default="causal", help="comma-separated: causal, document (trainer.attention); each preset runs once per kind")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--micro_batch", type=int, default=0, help="0: the config's (32)")
    parser.add_argument("--timeout", type=int, default=220, help="seconds per preset")
    args = parser.parse_args()
    try:
        import torch

        device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu (no CUDA)"
        torch_version = torch.__version__
    except Exception as e:  # the runs themselves will say more
        device, torch_version = f"unknown ({e})", None
    with tempfile.TemporaryDirectory(prefix="gpu_trainer-") as work:
        for preset, attention in [(p, a) for p in args.presets.split(",") for a in args.attention.split(",")]:
            start = time.perf_counter()
            result = {"bench": "gpu_trainer", "preset": preset, "attention": attention, "device": device, "torch": torch_version, "fsdp2_ranks": 1}
            try:
                from trainer.config import load_config

                cfg = load_config(["--config", os.path.join(ROOT, "trainer", "configs", f"{preset}.toml"), "--data", args.data])
                result.update(
                    precision="bf16" if cfg.mixed_precision else "fp32",
                    compile=cfg.compile,
                    seq_len=cfg.seq_len,
                    micro_batch=args.micro_batch or cfg.micro_batch,
                    warmup_steps=args.warmup,
                )
                result.update(bench(preset, attention, args, work))
            except Exception as e:  # keep going: the other preset's number is still worth having
                result["error"] = f"{type(e).__name__}: {e}"
            result["wall_s"] = round(time.perf_counter() - start, 1)
            line = json.dumps(result)
            print(line, flush=True)
            with open(args.out, "a") as f:
                f.write(line + "\n")


if __name__ == "__main__":
    main()
