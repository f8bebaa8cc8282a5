"""Train a GPT on the pipeline's token shards with FSDP2: one process per GPU (or CPU rank).

    torchrun --nproc_per_node=8 -m trainer.train --config trainer/configs/125m.toml --data OUT/tokens/manifest.json --out_dir runs/a
    python -m trainer.train --config trainer/configs/tiny.toml --data ... --out_dir runs/t     # one process
    ... --resume                                                      # continue from out_dir's latest checkpoint, on any number of ranks

Every optimizer step trains on the next global batch of the token stream (trainer.data): every
rank reads its part of it, computes its micro batches' gradients, and FSDP2 averages them over
ranks once per step, so the step is the same on any number of ranks that splits the batch.
Checks that need no process group (trainer.preflight) run first, on every rank. Rank 0 writes one JSON
object per logged step to out_dir/log.jsonl and a short line to stdout. CUDA runs use NCCL and
bf16; CPU runs use gloo and fp32 (that is what the tests run).
"""

import gc
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor import DTensor

from schemas.manifest import ManifestError
from trainer import checkpoint, preflight
from trainer.config import TrainConfig, parse_or_exit
from trainer.data import TokenStream
from trainer.flops import flops_per_token, peak_flops
from trainer.model import GPT, model_config
from trainer.parallelize import parallelize
from trainer.preflight import SetupError


def init_distributed() -> tuple[int, int, torch.device]:
    """(rank, world size, device) from torchrun's environment, or a process group of one."""
    cuda = torch.cuda.is_available()
    backend = "nccl" if cuda else "gloo"
    if "RANK" in os.environ:  # torchrun
        rank, world, local = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"])
        device = torch.device("cuda", local) if cuda else torch.device("cpu")
        if cuda:
            torch.cuda.set_device(device)
        dist.init_process_group(backend, device_id=device if cuda else None)
    else:  # a plain `python -m trainer.train`: an in-process store, no ports
        rank, world = 0, 1
        device = torch.device("cuda", 0) if cuda else torch.device("cpu")
        if cuda:
            torch.cuda.set_device(device)
        dist.init_process_group(backend, store=dist.HashStore(), rank=0, world_size=1)
    return rank, world, device


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def build_model(cfg: TrainConfig, vocab_size: int, eod_id: int, device: torch.device, mesh):
    overrides = {k: getattr(cfg, k) for k in ("n_layer", "n_head", "d_model") if getattr(cfg, k)}
    mcfg = model_config(cfg.preset, vocab_size, cfg.seq_len, tie_embeddings=cfg.tie_embeddings, attention=cfg.attention, eod_id=eod_id, **overrides)
    with torch.device("meta"):
        model = GPT(mcfg)  # no memory and no random numbers spent on a throwaway init
    model.to_empty(device=device)
    if mcfg.tie_embeddings:  # to_empty gives each module its own new tensor: tie them again
        model.head.weight = model.tok_emb.weight
    # Initialise the full weights before sharding, from the same seed on every rank: every rank
    # then holds the same model, whatever the world size, and a 2-rank run's gradients equal a
    # single process's (the parity test). Initialising the shards instead (DTensor random ops)
    # draws different numbers per world size on CPU. The cost is one unsharded fp32 copy of
    # the model per rank for a moment, which is small next to training memory up to ~1B.
    torch.manual_seed(cfg.seed)
    model.init_weights()
    model = parallelize(model, mesh, mixed_precision=cfg.mixed_precision, activation_checkpointing=cfg.activation_checkpointing, compile=cfg.compile)
    return model, mcfg


def build_optimizer(cfg: TrainConfig, model, device: torch.device) -> torch.optim.AdamW:
    # Weight decay on every matrix (ndim >= 2), none on the RMSNorm gains (there are no biases).
    # The embedding is a matrix and is decayed, as in nanoGPT and GPT-2: tied, it is also the
    # head, which is decayed in any case, and decaying both keeps tied and untied runs alike.
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": cfg.weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, fused=device.type == "cuda")


def lr_at(step: int, cfg: TrainConfig) -> float:
    """The learning rate of optimizer step `step` (1-based): linear warmup over warmup_steps to lr,
    then a cosine to min_lr_ratio * lr at max_steps (and that floor after it)."""
    if step <= cfg.warmup_steps:
        return cfg.lr * step / cfg.warmup_steps
    progress = min(1.0, (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps))
    floor = cfg.min_lr_ratio * cfg.lr
    return floor + 0.5 * (cfg.lr - floor) * (1.0 + math.cos(math.pi * progress))


def global_mean(t: torch.Tensor) -> float:
    t = t.detach().clone()
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.item() / dist.get_world_size()


def full_grads(model) -> dict[str, torch.Tensor]:
    """Collective: every parameter's whole gradient (names as in the unwrapped GPT)."""
    out = {}
    for name, p in model.named_parameters():
        g = p.grad.full_tensor() if isinstance(p.grad, DTensor) else p.grad
        out[name.replace("_checkpoint_wrapped_module.", "").replace("_orig_mod.", "")] = g.detach().float().cpu()
    return out


@torch.no_grad()
def evaluate(model, stream: TokenStream, start: dict, global_batches: int, device) -> float:
    """Mean loss over the val split's first `global_batches` global batches, every time: the same
    windows whatever the number of ranks (each rank takes its part of each)."""
    stream.load_state_dict(start)
    micro = global_batches * stream.accumulation
    total = torch.zeros((), device=device)
    for _, (x, y) in zip(range(micro), stream):
        total += model(x.to(device, non_blocking=True), y.to(device, non_blocking=True)).float()
    stream.close()
    return global_mean(total / micro)


def build_streams(cfg: TrainConfig, rank: int, world: int, global_batch: int, resume: preflight.Resume | None):
    """This rank's train stream, at the checkpoint's position on a resume, and, when validation is
    on, its val stream. Building them hashes every shard: a corrupt shard, a split too small for
    one global batch or a checkpoint from other data settings is a SetupError, before any process
    group exists."""
    stream_args = {
        "seq_len": cfg.seq_len,
        "micro_batch": cfg.micro_batch,
        "global_batch": global_batch,
        "rank": rank,
        "world_size": world,
        "seed": cfg.seed,
        "val_fraction": cfg.val_fraction,
        "source_weights": cfg.source_weights,
    }
    try:
        train_stream = TokenStream(cfg.data, split="train", **stream_args)
    except (ManifestError, ValueError) as e:
        raise SetupError(f"data: {e}") from None
    val_stream = None
    if cfg.val_fraction > 0 and cfg.eval_every > 0:
        try:
            val_stream = TokenStream(cfg.data, split="val", prefetch=0, **stream_args)
        except ValueError as e:
            raise SetupError(f"val_fraction: {e}: raise val_fraction, or pass --eval_every 0 to train without validation") from None
    if resume is not None:
        try:
            train_stream.load_state_dict(resume.meta["data"])
        except ValueError as e:  # another seq_len, seed, manifest, ...
            raise SetupError(f"resume: {resume.folder}: {e}") from None
    return train_stream, val_stream


def main(argv: list[str] | None = None) -> None:
    cfg = parse_or_exit(sys.argv[1:] if argv is None else argv)
    me = preflight.launch()
    try:  # everything that needs no process group, so that a bad option stops every rank before the rendezvous
        preflight.check_data(cfg)
        resume = preflight.check_checkpoints(cfg)
        batch = preflight.global_batch(cfg, me.world, resume)
        accum = preflight.check_batch(cfg, me.world, batch)
        streams = build_streams(cfg, me.rank, me.world, batch, resume)
    except SetupError as e:
        preflight.fail(e, me.local_rank)
    rank, world, device = init_distributed()
    try:
        train(cfg, rank, world, device, accum=accum, resume=resume, streams=streams)
        dist.barrier()  # no rank tears the group down while another still waits on a collective
    finally:
        # The group must be gone, and gloo's worker threads joined, before the interpreter
        # finalizes: a worker that frees a finished all-reduce's tensor then needs the GIL, and a
        # thread taking the GIL during finalization aborts the process ("terminate called without
        # an active exception", seen at random on a 2-rank exit). FSDP's module cycles hold the
        # group, so collect them first; destroy_process_group then drops the last reference.
        gc.collect()
        dist.destroy_process_group()


def train(
    cfg: TrainConfig,
    rank: int,
    world: int,
    device: torch.device,
    *,
    accum: int,
    resume: preflight.Resume | None,
    streams: tuple[TokenStream, TokenStream | None],
) -> None:
    master = rank == 0
    if device.type == "cuda":
        torch.set_float32_matmul_precision("high")
    seed_everything(cfg.seed)

    # ---- data: this rank's windows of the train split, and a fixed slice of the val split
    train_stream, val_stream = streams
    val_start = val_stream.state_dict() if val_stream is not None else None
    tokenizer = train_stream.data.manifest.tokenizer

    # ---- model and optimizer
    mesh = init_device_mesh(device.type, (world,))
    model, mcfg = build_model(cfg, tokenizer.vocab_size, tokenizer.eod_id, device, mesh)
    optimizer = build_optimizer(cfg, model, device)
    fpt = flops_per_token(mcfg, cfg.seq_len)
    peak = peak_flops(torch.cuda.get_device_name(device)) if device.type == "cuda" else None
    if master:
        print(
            f"model {cfg.preset}: {mcfg.n_layer} layers, d_model {mcfg.d_model}, {model.num_params() / 1e6:.2f}M parameters, {cfg.attention} attention; "
            f"{world} ranks x {cfg.micro_batch} x {accum} accumulation = {cfg.micro_batch * world * accum} sequences of {cfg.seq_len} per step",
            flush=True,
        )

    # ---- resume: the newest complete checkpoint in out_dir (preflight found it and placed the data stream)
    os.makedirs(cfg.out_dir, exist_ok=True)
    step = 0
    if resume is not None:
        if master:
            for name in checkpoint.clean_partial(cfg.out_dir):
                print(f"removed the unfinished checkpoint {name}", flush=True)
        dist.barrier()
        step = checkpoint.load(resume.folder, model, optimizer, seed=cfg.seed)["step"]
        if master:
            print(f"resumed from {resume.folder} at step {step} (written by {resume.meta['world_size']} ranks, now {world})", flush=True)
    log_path = os.path.join(cfg.out_dir, "log.jsonl")
    if master:  # keep the records up to the resumed step: the log then reads as one uninterrupted run
        kept = []
        if step and os.path.exists(log_path):
            with open(log_path) as f:
                kept = [line for line in f if line.strip() and json.loads(line).get("step", 0) <= step]
        with open(log_path, "w") as f:
            f.writelines(kept)
    log_file = open(log_path, "a") if master else None  # noqa: SIM115 (closed after the loop)

    def log(record: dict, line: str) -> None:
        if master:
            log_file.write(json.dumps(record) + "\n")
            log_file.flush()
            print(line, flush=True)

    def save_checkpoint(at: int) -> None:
        meta = {
            "schedule": {k: getattr(cfg, k) for k in ("lr", "min_lr_ratio", "warmup_steps", "max_steps")},
            "config": cfg.to_dict(),
            "global_batch": train_stream.global_batch,
            "data": train_stream.state_dict(),
        }
        folder = checkpoint.save(cfg.out_dir, at, model, optimizer, meta=meta, keep=cfg.keep_checkpoints)
        if master:
            print(f"saved {folder}", flush=True)

    # ---- the loop
    batches = iter(train_stream)
    tokens_per_step = train_stream.global_batch * cfg.seq_len
    loss_sum = torch.zeros((), device=device)  # sum over the steps since the last log of each step's mean loss
    interval_start, interval_steps, data_wait = time.perf_counter(), 0, 0.0
    records = None
    if cfg.record_windows:  # debugging (the elastic resume tests): what each rank trains on
        os.makedirs(cfg.record_windows, exist_ok=True)
        records = open(os.path.join(cfg.record_windows, f"rank-{rank:05d}.jsonl"), "a")  # noqa: SIM115 (closed after the loop)
    model.train()
    while step < cfg.max_steps:
        step += 1
        lr = lr_at(step, cfg)
        for group in optimizer.param_groups:
            group["lr"] = lr
        windows = []  # for record_windows: this step's windows on this rank, [seq_len + 1] token ids each
        for micro in range(accum):
            t0 = time.perf_counter()
            x, y = next(batches)
            if records is not None:
                windows += torch.cat([x, y[:, -1:]], 1).tolist()
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            data_wait += time.perf_counter() - t0
            # FSDP2's no_sync: gradients accumulate unsharded on every rank, reduced after the last micro batch
            model.set_requires_gradient_sync(micro == accum - 1)
            loss = model(x, y) / accum
            loss.backward()
            loss_sum += loss.detach()
        if records is not None:
            records.write(json.dumps({"step": step, "rank": rank, "windows": windows}) + "\n")
            records.flush()

        if cfg.dump_grads:  # debugging (the gradient parity test): the first step's gradients, then stop
            grads = full_grads(model)
            if master:
                torch.save({"grads": grads, "loss": global_mean(loss_sum), "world_size": world}, cfg.dump_grads)
            else:
                global_mean(loss_sum)
            return

        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip if cfg.grad_clip > 0 else math.inf)
        if isinstance(grad_norm, DTensor):
            grad_norm = grad_norm.full_tensor()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        interval_steps += 1

        if step % cfg.log_every == 0 or step == cfg.max_steps:
            loss_value = global_mean(loss_sum) / interval_steps  # .item() waits for the GPU: the interval's time is real
            elapsed = time.perf_counter() - interval_start
            tok_s = tokens_per_step * interval_steps / elapsed
            record = {
                "step": step,
                "loss": loss_value,
                "lr": lr,
                "grad_norm": grad_norm.item(),
                "tok_s": tok_s,
                "mfu": fpt * tok_s / (peak * world) if peak else None,
                "step_s": elapsed / interval_steps,
                "data_wait_s": data_wait / interval_steps,
                "data_share": data_wait / elapsed,
                "tokens": train_stream.tokens_consumed,
                "epoch": train_stream.epoch,
            }
            if device.type == "cuda":
                record["max_mem_gb"] = torch.cuda.max_memory_allocated(device) / 2**30
            mfu = f" mfu {record['mfu']:.1%}" if peak else ""
            log(
                record,
                f"step {step}/{cfg.max_steps} loss {loss_value:.4f} lr {lr:.2e} norm {record['grad_norm']:.3f} "
                f"{tok_s:,.0f} tok/s{mfu} data {record['data_share']:.1%} epoch {train_stream.epoch}",
            )
            loss_sum.zero_()
            interval_start, interval_steps, data_wait = time.perf_counter(), 0, 0.0

        if val_stream is not None and (step % cfg.eval_every == 0 or step == cfg.max_steps):
            model.eval()
            val_loss = evaluate(model, val_stream, val_start, cfg.eval_batches, device)
            model.train()
            log({"step": step, "val_loss": val_loss}, f"step {step} val loss {val_loss:.4f}")
            interval_start = time.perf_counter()  # validation is not training time

        if (cfg.checkpoint_every and step % cfg.checkpoint_every == 0) or step == cfg.max_steps:
            save_checkpoint(step)
            interval_start = time.perf_counter()

    train_stream.close()
    for f in (log_file, records):
        if f is not None:
            f.close()


if __name__ == "__main__":
    main()
