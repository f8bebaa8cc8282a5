"""Elastic exact resume, end to end: real torchrun processes over gloo, the tiny model.

A 2-rank run of 12 steps with a global batch of 6 sequences (micro_batch 1: accumulation 3 on 2
ranks, 2 on 3 ranks, 6 on 1) is the reference. Its step-4 checkpoint is resumed on 3 ranks, the
3-rank run's step-8 checkpoint on 1 rank, and a 2-rank run killed while writing a checkpoint on 3
ranks. Every rank records the windows it trains on (--record_windows): per step, the multiset of
windows over all ranks must equal the reference's, and the losses must match it to float
rounding (the gradient is the same mean over the same 6 windows, summed in another order).
"""

import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from tests.trainer.shards import write_test_shards
from tests.trainer.test_train import ROOT, TINY, _command, _descendants, _losses, _run

STEPS = 12
RUN = [
    "--config",
    TINY,
    "--global_batch",
    "6",
    "--micro_batch",
    "1",
    "--max_steps",
    str(STEPS),
    "--checkpoint_every",
    "4",
    "--keep_checkpoints",
    "5",
    "--eval_every",
    "4",
    "--eval_batches",
    "1",
]


def _windows(folder: str) -> dict[int, list]:
    """{step: the sorted windows of every rank} from a --record_windows folder."""
    steps: dict[int, list] = {}
    for name in os.listdir(folder):
        with open(os.path.join(folder, name)) as f:
            for record in map(json.loads, f):
                steps.setdefault(record["step"], []).extend(map(tuple, record["windows"]))
    return {step: sorted(windows) for step, windows in steps.items()}


def _val_losses(out_dir: str) -> dict[int, float]:
    with open(os.path.join(out_dir, "log.jsonl")) as f:
        return {r["step"]: r["val_loss"] for r in map(json.loads, f) if "val_loss" in r}


def _assert_continues(out_dir: str, windows_dir: str, reference: str, after: int) -> None:
    """Steps after..STEPS of out_dir trained on the reference's windows, with its losses."""
    got, want = _windows(windows_dir), _windows(os.path.join(reference, "windows"))
    assert sorted(got) == list(range(after + 1, STEPS + 1))
    for step in got:
        assert len(got[step]) == 6 and got[step] == want[step], step  # the same tokens, each once
    resumed, full = _losses(out_dir), _losses(reference)
    assert sorted(resumed) == list(range(1, STEPS + 1))
    for step in range(after + 1, STEPS + 1):
        assert resumed[step]["tokens"] == full[step]["tokens"] and resumed[step]["epoch"] == full[step]["epoch"]
        assert resumed[step]["lr"] == full[step]["lr"]
        # fp32 sums over 6 windows in another order, then a few Adam steps: measured below 1e-6 relative
        for key in ("loss", "grad_norm"):
            assert resumed[step][key] == pytest.approx(full[step][key], rel=1e-5), (step, key)
    for step, value in _val_losses(out_dir).items():
        assert value == pytest.approx(_val_losses(reference)[step], rel=1e-5), step


def _copy_run(reference: str, out: str, keep_up_to: int) -> None:
    shutil.copytree(reference, out, ignore=shutil.ignore_patterns("windows"))
    root = os.path.join(out, "checkpoints")
    for name in os.listdir(root):
        if name.startswith("step-") and int(name.split("-")[1]) > keep_up_to:
            shutil.rmtree(os.path.join(root, name))  # `latest` now names a missing folder: resume takes the newest complete one


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> str:
    return write_test_shards(tmp_path_factory.mktemp("shards"), docs=60, max_doc_len=60)


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory) -> str:
    """2 ranks, 12 steps, uninterrupted."""
    out = str(tmp_path_factory.mktemp("reference"))
    _run(2, *RUN, "--data", data, "--out_dir", out, "--record_windows", os.path.join(out, "windows"))
    return out


def test_resume_on_three_ranks_then_on_one_continues_the_two_rank_run(data, reference, tmp_path):
    windows = _windows(os.path.join(reference, "windows"))
    assert sorted(windows) == list(range(1, STEPS + 1)) and all(len(w) == 6 for w in windows.values())

    out = str(tmp_path / "run")
    _copy_run(reference, out, keep_up_to=4)
    _run(3, *RUN, "--data", data, "--out_dir", out, "--resume", "--record_windows", str(tmp_path / "w3"))
    _assert_continues(out, str(tmp_path / "w3"), reference, after=4)
    with open(os.path.join(out, "checkpoints", "step-000008", "trainer.json")) as f:
        meta = json.load(f)
    assert (meta["world_size"], meta["global_batch"], meta["data"]["world_size"]) == (3, 6, 3)

    shutil.rmtree(os.path.join(out, "checkpoints", "step-000012"))  # continue from the 3-rank run's step 8, on 1 rank
    done = _run(1, *RUN, "--data", data, "--out_dir", out, "--resume", "--record_windows", str(tmp_path / "w1"))
    assert "written by 3 ranks, now 1" in done.stdout
    _assert_continues(out, str(tmp_path / "w1"), reference, after=8)


def test_a_world_size_that_does_not_split_the_global_batch_says_which_do(data, reference, tmp_path):
    out = str(tmp_path / "run")
    _copy_run(reference, out, keep_up_to=4)
    done = _run(4, *RUN, "--data", data, "--out_dir", out, "--resume", check=False)
    assert done.returncode != 0
    ours = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert ours == [
        "error: global_batch: global_batch 6 is not a multiple of micro_batch 1 x 4 ranks = 4: with micro_batch 1 it splits over 1, 2, 3 or 6 ranks"
    ], done.stderr[-3000:]
    assert "[rank" not in done.stderr
    explicit = _run(1, *RUN, "--global_batch", "8", "--data", data, "--out_dir", out, "--resume", check=False)
    assert explicit.returncode == 2 and "the global batch stays fixed across resumes" in explicit.stderr


def test_killed_while_writing_a_checkpoint_then_resumed_on_three_ranks(data, reference, tmp_path):
    out = str(tmp_path / "killed")
    root = os.path.join(out, "checkpoints")
    for _attempt in range(3):  # the kill must land inside a save: a .tmp folder left behind proves it did
        shutil.rmtree(out, ignore_errors=True)
        command = _command(2, *RUN, "--checkpoint_every", "1", "--data", data, "--out_dir", out)
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline, victims = time.monotonic() + 90, []
            while True:
                assert proc.poll() is None and time.monotonic() < deadline, "no checkpoint save was seen"
                if len(victims) < 2:
                    victims = _descendants(proc.pid)  # torchrun and both workers, found before the kill is due
                names = os.listdir(root) if os.path.isdir(root) else []
                if len(victims) >= 2 and any(n.startswith("step-") and n.endswith(".tmp") and int(n[5:11]) >= 3 for n in names):
                    break
        finally:
            for pid in [*_descendants(proc.pid), proc.pid]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            proc.wait()
        if any(n.startswith("step-") and n.endswith(".tmp") for n in os.listdir(root)):
            break
    else:
        pytest.fail("three kills in a row fell outside a checkpoint save")
    from trainer import checkpoint

    saved = int(os.path.basename(checkpoint.latest(out)).split("-")[1])
    assert 2 <= saved < STEPS
    done = _run(3, *RUN, "--data", data, "--out_dir", out, "--resume", "--record_windows", str(tmp_path / "w3"))
    assert "removed the unfinished checkpoint" in done.stdout
    assert not any(n.endswith(".tmp") for n in os.listdir(root))
    _assert_continues(out, str(tmp_path / "w3"), reference, after=saved)
