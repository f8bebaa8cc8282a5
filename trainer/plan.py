"""What a run's tokens can train, and for how long: a back-of-envelope plan before asking for GPUs.

    python -m trainer.plan --data OUT/tokens/manifest.json --params 124M [--seq-len 1024] [--mfu 0.4] [--gpus 8] [--gpu H100]

Reads manifest.json only (shards are neither opened nor hashed, so it is instant on any size of
run) and counts parameters by arithmetic (model.param_count), so planning a 1B model allocates
nothing. Compute is flops.py's PaLM convention; the compute-optimal size is Chinchilla's rule of
thumb (Hoffmann et al. 2022): about 20 training tokens per parameter, all parameters counted.
"""

import argparse
import math
import re
import sys

from schemas.manifest import ManifestError
from schemas.reader import TokenData
from trainer.cli import OneLineParser
from trainer.flops import flops_per_token, peak_flops
from trainer.model import PRESETS, ModelConfig, model_config, param_count

TOKENS_PER_PARAM = 20
_SUFFIX = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "G": 10**9, "T": 10**12}


def parse_size(text: str) -> int:
    """'124M', '1.3B', '350m', '2e9' or '125000000' -> a count."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?(?:[eE]\d+)?)\s*([kKmMbBgGtT]?)\s*", text)
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 124M, 1.3B, 350m)")
    return round(float(match.group(1)) * _SUFFIX[match.group(2).upper()])


def human(n: float) -> str:
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g}{unit}"
    return f"{n:.3g}"


def duration(seconds: float) -> str:
    for unit, scale in (("days", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e3:.3g} ms"


def nearest_preset(n_params: float, vocab_size: int, seq_len: int, tie: bool = False) -> tuple[str, ModelConfig]:
    """The preset whose parameter count is nearest to n_params by ratio (on a log scale: twice
    too big is as far off as half the size)."""
    configs = {name: model_config(name, vocab_size, seq_len, tie_embeddings=tie) for name in PRESETS}
    name = min(configs, key=lambda k: abs(math.log(param_count(configs[k]) / n_params)))
    return name, configs[name]


def _parser() -> OneLineParser:
    p = OneLineParser(prog="python -m trainer.plan", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="a run's tokens/manifest.json")
    size = p.add_mutually_exclusive_group(required=True)
    size.add_argument("--params", type=parse_size, help="model size: the preset nearest to it (124M, 1.3B)")
    size.add_argument("--preset", choices=list(PRESETS))
    p.add_argument("--seq-len", type=int, default=1024)
    p.add_argument("--tie-embeddings", action="store_true")
    p.add_argument("--mfu", type=float, default=0.4, help="expected model FLOPs utilisation (default 0.4)")
    p.add_argument("--gpus", type=int, default=8)
    p.add_argument("--gpu", default="H100", help="H100, H100 PCIe, H200, A100 or a CUDA device name")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    peak = peak_flops(args.gpu)
    problem = (
        f"unknown GPU {args.gpu!r}: no bf16 peak for it in trainer/flops.py"
        if peak is None
        else "--mfu must be in (0, 1]"
        if not 0 < args.mfu <= 1
        else "--gpus and --seq-len must be >= 1"
        if args.gpus < 1 or args.seq_len < 1
        else None
    )
    if problem is None:
        try:
            manifest = TokenData(args.data).manifest
        except ManifestError as e:
            problem = str(e) if args.data in str(e) else f"{args.data}: {e}"
        else:
            if manifest.total_tokens == 0:
                problem = f"{args.data}: the manifest lists no tokens"
    if problem:
        print(f"plan: {problem}", file=sys.stderr)
        return 2

    D, V, T = manifest.total_tokens, manifest.tokenizer.vocab_size, args.seq_len
    if args.preset:
        name, cfg = args.preset, model_config(args.preset, V, T, tie_embeddings=args.tie_embeddings)
        why = "as asked"
    else:
        name, cfg = nearest_preset(args.params, V, T, args.tie_embeddings)
        why = f"the preset nearest {human(args.params)}"
    N = param_count(cfg)
    f_tok = flops_per_token(cfg, T)
    C = f_tok * D
    n_opt = D / TOKENS_PER_PARAM
    opt_name, opt_cfg = nearest_preset(n_opt, V, T, args.tie_embeddings)
    wanted = TOKENS_PER_PARAM * N
    rate = args.mfu * args.gpus * peak  # model FLOP/s the cluster delivers

    shards = len(manifest.shards)
    out = [f"data     {D:,} tokens, vocab {V:,}, in {shards} shard{'s' * (shards != 1)} ({args.data})"]
    width = max((len(s) for s in manifest.sources), default=0)
    for source, mix in sorted(manifest.sources.items(), key=lambda kv: -kv[1].tokens_written):
        out.append(f"           {source:<{width}}  {mix.tokens_written:>15,}  {mix.tokens_written / D:6.1%}")
    out += [
        (
            f"model    {name} ({why}): {cfg.n_layer} layers x {cfg.n_head} heads x {cfg.d_model} d, "
            f"N = {N:,} params ({human(N)}; {param_count(cfg, exclude_embedding=True):,} without the input embedding)"
        ),
        f"         {f_tok:.4g} FLOPs/token at seq_len {T} (PaLM: 6N' + 12 L d T, N' = N less the input embedding)",
        f"epoch    C = FLOPs/token x D = {C:.3e} FLOPs  (6ND = {6 * N * D:.3e})",
        (
            f"optimal  Chinchilla, {TOKENS_PER_PARAM} tokens/param: N_opt = D/{TOKENS_PER_PARAM} = {n_opt:,.0f} params ({human(n_opt)});"
            f" nearest preset {opt_name} (N = {param_count(opt_cfg):,})"
        ),
        f"wants    {name} is optimal at {TOKENS_PER_PARAM}N = {wanted:,} tokens = {wanted / D:,.2f} epochs of this data",
        (
            f"time     at {args.mfu:.0%} MFU on {args.gpus} x {args.gpu} ({peak / 1e12:,.0f} TFLOP/s bf16 peak each):"
            f" one epoch {duration(C / rate)}, {TOKENS_PER_PARAM}N tokens {duration(f_tok * wanted / rate)}"
        ),
    ]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
