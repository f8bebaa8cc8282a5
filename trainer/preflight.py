"""What a run can check before it starts any process group: the manifest, out_dir's checkpoints
and how the batch splits over the ranks torchrun started.

Every rank runs these checks on its own, from files and torchrun's environment alone, so a bad
option stops every rank with status 2 and one line before any rendezvous: no rank waits in a
collective for a rank that has already died, and no `[rankN]:` traceback is printed. The line
is printed by each node's first rank (LOCAL_RANK 0), so a one-node run shows it once.
torchrun itself then reports the failed workers in its own summary (ChildFailedError, with each
rank's exit code 2); that summary is torchrun's and cannot be silenced from the workers.
"""

import os
import sys
from dataclasses import dataclass

from schemas.manifest import ManifestError
from schemas.reader import TokenData
from trainer import checkpoint
from trainer.config import TrainConfig


class SetupError(ValueError):
    """A run that cannot start as asked; the message says what to change."""


@dataclass(frozen=True)
class Launch:
    rank: int
    world: int
    local_rank: int


def launch() -> Launch:
    """This process's rank and world size from torchrun's environment (one process without it)."""
    if "RANK" in os.environ:
        return Launch(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", "0")))
    return Launch(0, 1, 0)


def fail(error: Exception, local_rank: int) -> None:
    """One line on stderr (on each node's first rank), then exit status 2 on every rank."""
    if local_rank == 0:
        print(f"error: {error}", file=sys.stderr, flush=True)
    raise SystemExit(2)


def check_data(cfg: TrainConfig) -> TokenData:
    """The manifest reads and validates, and every shard it lists is a file (hashes are checked later, by the stream)."""
    try:
        data = TokenData(cfg.data)
        for shard in data.shards:
            path = data.path(shard.path)
            if not os.path.isfile(path):
                raise ManifestError(f"shard {shard.path} is missing (expected at {path})")
    except ManifestError as e:
        message = str(e)
        raise SetupError(f"data: {message if cfg.data in message else f'{cfg.data}: {message}'}") from None
    return data


@dataclass(frozen=True)
class Resume:
    folder: str  # the checkpoint's folder
    meta: dict  # its trainer.json: step, world_size, global_batch, data (the stream's global state), ...


def check_checkpoints(cfg: TrainConfig) -> Resume | None:
    """The checkpoint a --resume continues from; None for a fresh start into an out_dir without checkpoints."""
    if not cfg.resume:
        if checkpoint.complete_steps(cfg.out_dir):
            raise SetupError(f"out_dir: {cfg.out_dir} already has checkpoints: pass --resume to continue it, or choose another out_dir")
        return None
    folder = checkpoint.latest(cfg.out_dir)
    if folder is None:
        raise SetupError(
            f"resume: no complete checkpoint in {checkpoint.checkpoints_dir(cfg.out_dir)}: "
            "drop --resume to start afresh, or give the --out_dir of the run to continue"
        )
    try:
        meta = checkpoint.read_meta(folder)
    except (OSError, ValueError) as e:
        raise SetupError(f"resume: cannot read {folder}/trainer.json: {e}") from None
    if "data" not in meta or "global_batch" not in meta:
        raise SetupError(f"resume: {folder} was written by an older trainer (per-rank data positions): continue it with the commit that wrote it")
    return Resume(folder, meta)


def global_batch(cfg: TrainConfig, world: int, resume: Resume | None) -> int:
    """Sequences per optimizer step: fixed for a run's whole life, whatever the ranks of each resume."""
    if resume is None:
        return cfg.global_batch or cfg.micro_batch * world
    saved = resume.meta["global_batch"]
    if cfg.global_batch and cfg.global_batch != saved:
        raise SetupError(
            f"global_batch: {resume.folder} trained with global_batch {saved} and this run asks for {cfg.global_batch}; "
            f"the global batch stays fixed across resumes: drop --global_batch or pass {saved}"
        )
    return saved


def check_batch(cfg: TrainConfig, world: int, batch: int) -> int:
    """Micro batches accumulated per optimizer step on `world` ranks."""
    try:
        return cfg.grad_accum(world, batch)
    except ValueError as e:
        raise SetupError(f"global_batch: {e}") from None
