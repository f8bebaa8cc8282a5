"""Atomic, resumable checkpoints: model and optimizer through torch.distributed.checkpoint (DCP),
the rest in small files beside it.

    out_dir/checkpoints/
        step-000500/
            dcp/                 model + optimizer, sharded: every rank writes its own shards
            trainer.json         step, world size, global batch, the data stream's (global) state,
                                 the schedule's settings and the run's config
            rank-00000.pt        per rank: its RNG states
            rank-00001.pt
        step-001000/
        latest                   "step-001000": written after the folder it names is complete

A save writes everything into step-NNNNNN.tmp/, all ranks meet at a barrier, rank 0 renames the
folder to step-NNNNNN/ and only then replaces `latest` (write + os.replace), then deletes all
but the newest keep_checkpoints. A process killed mid-save leaves a .tmp folder, which no load
ever reads and the next run's rank 0 deletes. The checkpoint loaded is the newest complete
step-NNNNNN/ folder: `latest` names it, except when the kill fell between the rename and the
marker's update, when the newer (complete) folder wins. The learning rate is a pure function of
the step (train.lr_at), so the step is the schedule's state; its settings are saved too.

Any number of ranks can load a checkpoint. DCP reshards the model and optimizer (each saved
tensor is stored with its global shape and the offsets of each rank's piece; a load reads the
pieces the new sharding needs). The data stream's state is global (trainer.data), taken between
optimizer steps, so it is one copy in trainer.json. RNG states are per rank and cannot be
re-partitioned: on the world size that saved them each rank gets its own back (a resume is then
bit-identical), on another each rank is seeded from (seed, step, rank). The training step draws
no random numbers today (no dropout), so this changes nothing in the losses.
"""

import hashlib
import json
import os
import random
import re
import shutil

import numpy as np
import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

_STEP = re.compile(r"^step-(\d{6,})$")


def checkpoints_dir(out_dir: str) -> str:
    return os.path.join(out_dir, "checkpoints")


def _name(step: int) -> str:
    return f"step-{step:06d}"


def rng_state() -> dict:
    state = {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


def save(out_dir: str, step: int, model, optimizer, *, meta: dict, keep: int) -> str:
    """Collective: every rank calls it. Returns the final folder. meta (rank 0's) goes into trainer.json."""
    rank, world = dist.get_rank(), dist.get_world_size()
    root = checkpoints_dir(out_dir)
    final = os.path.join(root, _name(step))
    tmp = final + ".tmp"
    if rank == 0:
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
    dist.barrier()
    model_sd, optim_sd = get_state_dict(model, optimizer)
    dcp.save({"model": model_sd, "optim": optim_sd}, checkpoint_id=os.path.join(tmp, "dcp"))
    torch.save({"rng": rng_state()}, os.path.join(tmp, f"rank-{rank:05d}.pt"))
    if rank == 0:
        with open(os.path.join(tmp, "trainer.json"), "w") as f:
            json.dump({"step": step, "world_size": world, **meta}, f, indent=2, sort_keys=True)
    dist.barrier()  # every rank's files are in tmp
    if rank == 0:
        if os.path.exists(final):  # a save of this very step by an earlier, killed run
            shutil.rmtree(final)
        os.rename(tmp, final)
        marker = os.path.join(root, "latest")
        with open(marker + ".tmp", "w") as f:
            f.write(_name(step) + "\n")
        os.replace(marker + ".tmp", marker)
        for old in complete_steps(out_dir)[:-keep]:
            shutil.rmtree(os.path.join(root, _name(old)), ignore_errors=True)
    dist.barrier()  # nobody goes on (or exits) before the checkpoint is in place
    return final


def complete_steps(out_dir: str) -> list[int]:
    """Steps of the complete checkpoints, ascending (.tmp folders are never complete)."""
    root = checkpoints_dir(out_dir)
    if not os.path.isdir(root):
        return []
    return sorted(int(m.group(1)) for name in os.listdir(root) if (m := _STEP.match(name)) and os.path.isdir(os.path.join(root, name)))


def latest(out_dir: str) -> str | None:
    """The folder of the newest complete checkpoint, or None."""
    root = checkpoints_dir(out_dir)
    steps = complete_steps(out_dir)
    chosen = steps[-1] if steps else None
    try:
        with open(os.path.join(root, "latest")) as f:
            m = _STEP.match(f.read().strip())
        if m and int(m.group(1)) in steps and (chosen is None or int(m.group(1)) > chosen):
            chosen = int(m.group(1))
    except FileNotFoundError:
        pass
    return None if chosen is None else os.path.join(root, _name(chosen))


def clean_partial(out_dir: str) -> list[str]:
    """Rank 0, before a run writes anything: delete the .tmp folders of interrupted saves."""
    root = checkpoints_dir(out_dir)
    removed = []
    if os.path.isdir(root):
        for name in sorted(os.listdir(root)):
            if name.endswith(".tmp"):
                path = os.path.join(root, name)
                shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
                removed.append(name)
    return removed


def read_meta(folder: str) -> dict:
    with open(os.path.join(folder, "trainer.json")) as f:
        return json.load(f)


def load(folder: str, model, optimizer, *, seed: int) -> dict:
    """Collective: loads model and optimizer in place, resharded to this run's ranks, and the RNG
    states (see the module's docstring); returns trainer.json's dict."""
    rank, world = dist.get_rank(), dist.get_world_size()
    meta = read_meta(folder)
    model_sd, optim_sd = get_state_dict(model, optimizer)
    state = {"model": model_sd, "optim": optim_sd}
    dcp.load(state, checkpoint_id=os.path.join(folder, "dcp"))
    set_state_dict(model, optimizer, model_state_dict=state["model"], optim_state_dict=state["optim"])
    if meta["world_size"] == world:
        piece = torch.load(os.path.join(folder, f"rank-{rank:05d}.pt"), weights_only=False)  # our own file
        set_rng_state(piece["rng"])
    else:
        reseed = int.from_bytes(hashlib.blake2b(f"corpusforge.trainer.rng:{seed}:{meta['step']}:{rank}".encode(), digest_size=8).digest(), "little")
        random.seed(reseed)
        np.random.seed(reseed % 2**32)
        torch.manual_seed(reseed)
    return meta
