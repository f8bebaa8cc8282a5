"""The trainer end to end on CPU: real processes, 2 ranks over gloo, the tiny model on test shards.

Each launch costs a few seconds (process start, imports, gloo rendezvous), so the module runs
four torchrun launches in all: a 30-step run (the reference), the same run killed after a
checkpoint, its resume on the same 2 ranks (bit-identical), and a 2-rank gradient dump; plus one
single-process run. Resumes on other numbers of ranks are test_elastic.py's.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import torch

from tests.trainer.shards import write_test_shards
from trainer.config import ConfigError, TrainConfig, load_config, parse_or_exit
from trainer.train import lr_at, main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = os.path.join(ROOT, "trainer", "configs", "tiny.toml")
STEPS = 30
RUN = ["--config", TINY, "--max_steps", str(STEPS), "--checkpoint_every", "5", "--keep_checkpoints", "3"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command(ranks: int, *args: str) -> list[str]:
    if ranks == 1:  # no torchrun: train.py makes a process group of one
        return [sys.executable, "-m", "trainer.train", *args]
    return [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={ranks}", f"--master_port={_free_port()}", "-m", "trainer.train", *args]


def _run(ranks: int, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(_command(ranks, *args), cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def _losses(out_dir: str) -> dict[int, dict]:
    with open(os.path.join(out_dir, "log.jsonl")) as f:
        return {r["step"]: r for r in map(json.loads, f) if "loss" in r}


def _descendants(pid: int) -> list[int]:
    """Every process below pid (torchrun starts its workers in new sessions: a killpg of torchrun's
    group would leave them running)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found, frontier = [], [pid]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> str:
    # ~2,200 tokens: one epoch is ~5 steps of 8 windows, so in 30 steps the tiny model learns the
    # documents' (random) token sequences by heart and its loss falls well below ln(300).
    return write_test_shards(tmp_path_factory.mktemp("shards"), docs=60, max_doc_len=60)


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory) -> str:
    """A 2-rank run of STEPS steps, uninterrupted."""
    out = str(tmp_path_factory.mktemp("reference"))
    _run(2, *RUN, "--data", data, "--out_dir", out)
    return out


def test_two_ranks_train_and_the_loss_goes_down(reference):
    records = _losses(reference)
    assert sorted(records) == list(range(1, STEPS + 1))  # log_every 1
    first, last = records[1], records[STEPS]
    assert last["loss"] < first["loss"] - 0.5, (first["loss"], last["loss"])
    assert first["loss"] == pytest.approx(5.70, abs=0.1)  # ln(300) at init
    assert last["tokens"] == STEPS * 8 * 33  # global batch 8 windows of seq_len + 1 tokens per step
    assert last["epoch"] >= 1 and first["mfu"] is None  # MFU only on GPUs
    assert all(0 <= r["data_share"] < 1 and r["grad_norm"] > 0 for r in records.values())
    lrs = [records[s]["lr"] for s in (1, 5, STEPS)]
    assert lrs == pytest.approx([3e-3 / 5, 3e-3, 3e-4])  # warmup 5 steps, cosine to 0.1 x lr
    with open(os.path.join(reference, "log.jsonl")) as f:
        assert [r["step"] for r in map(json.loads, f) if "val_loss" in r] == [10, 20, 30]
    checkpoints = os.path.join(reference, "checkpoints")
    assert sorted(os.listdir(checkpoints)) == ["latest", "step-000020", "step-000025", "step-000030"]  # keep 3
    with open(os.path.join(checkpoints, "latest")) as f:
        assert f.read().strip() == "step-000030"


def test_gradients_of_two_fsdp_ranks_equal_one_process(data, tmp_path):
    # One global batch of 8 windows: 2 ranks x 4 (no accumulation) against 1 process x 4 x 2
    # accumulated micro batches. TokenStream gives rank r windows r, r+2, ... of the same
    # order, so both see windows 0..7 and the mean loss over them is the same function.
    dumps = {}
    for ranks in (1, 2):
        dumps[ranks] = str(tmp_path / f"grads-{ranks}.pt")
        _run(ranks, "--config", TINY, "--data", data, "--out_dir", str(tmp_path / f"out-{ranks}"), "--dump_grads", dumps[ranks])
    one, two = (torch.load(dumps[r]) for r in (1, 2))
    assert (one["world_size"], two["world_size"]) == (1, 2)
    assert two["loss"] == pytest.approx(one["loss"], rel=1e-6)
    assert one["grads"].keys() == two["grads"].keys() and "blocks.3.w2.weight" in one["grads"]
    # fp32, only the summation order differs (measured: at most 7e-7 of a tensor's largest entry).
    # A gloo SUM instead of a mean (pytorch issue 162338) would make every ratio below 2.
    torch.testing.assert_close(two["grads"], one["grads"], rtol=1e-5, atol=1e-6)
    for name, g in one["grads"].items():
        assert (two["grads"][name].norm() / g.norm()).item() == pytest.approx(1.0, abs=1e-5), name


def test_killed_run_resumes_exactly(data, reference, tmp_path):
    out = str(tmp_path / "killed")
    proc = subprocess.Popen(
        _command(2, *RUN, "--data", data, "--out_dir", out), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 90
        while not os.path.isdir(os.path.join(out, "checkpoints", "step-000005")):  # complete: renamed from .tmp
            assert proc.poll() is None and time.monotonic() < deadline, "no checkpoint at step 5"
            time.sleep(0.02)
    finally:
        victims = _descendants(proc.pid)
        for pid in [*victims, proc.pid]:
            try:
                os.killpg(pid, signal.SIGKILL)  # each worker leads its own session
            except ProcessLookupError:
                pass
        proc.wait()
    # The newest complete checkpoint as the resume will find it: the kill may fall between a
    # folder's rename and the `latest` marker's update (seen under load), which resume handles.
    from trainer import checkpoint

    saved = int(os.path.basename(checkpoint.latest(out)).split("-")[1])
    assert 5 <= saved < STEPS, saved  # it died mid-run
    # A save that died half-way (a newer step, still .tmp) must be ignored and removed.
    half = os.path.join(out, "checkpoints", f"step-{STEPS - 1:06d}.tmp")
    os.makedirs(os.path.join(half, "dcp"), exist_ok=True)

    _run(2, *RUN, "--data", data, "--out_dir", out, "--resume")
    assert not os.path.exists(half)
    resumed, full = _losses(out), _losses(reference)
    assert sorted(resumed) == list(range(1, STEPS + 1))  # the killed run's records past `saved` were replaced
    for step in range(saved + 1, STEPS + 1):
        # Exact: the same fp32 ops on the same data in the same order (CPU kernels are
        # deterministic), from bit-identical parameters, Adam moments and data position.
        for key in ("loss", "grad_norm", "lr", "tokens", "epoch"):
            assert resumed[step][key] == full[step][key], (step, key, resumed[step][key], full[step][key])


def test_config_from_toml_with_cli_overrides(tmp_path):
    cfg = load_config(
        [
            "--config",
            TINY,
            "--lr",
            "1e-3",
            "--max_steps",
            "7",
            "--resume",
            "--betas",
            "0.9,0.99",
            "--source_weights",
            "web=2,books=0.5",
            "--data",
            "m.json",
        ]
    )
    assert (cfg.preset, cfg.seq_len, cfg.warmup_steps) == ("tiny", 32, 5)  # from the file
    assert (cfg.lr, cfg.max_steps, cfg.resume, cfg.betas) == (1e-3, 7, True, (0.9, 0.99))  # from the command line
    assert cfg.source_weights == {"web": 2.0, "books": 0.5}
    assert TrainConfig().weight_decay == 0.1 and TrainConfig().grad_clip == 1.0
    assert cfg.grad_accum(1) == 2 and cfg.grad_accum(2) == 1
    with pytest.raises(ValueError, match="global_batch 8 is not a multiple of micro_batch 4 x 3 ranks = 12: .* over 1 or 2 ranks"):
        cfg.grad_accum(3)
    bad = tmp_path / "bad.toml"
    bad.write_text('data = "m.json"\nlearning_rate = 3e-4\n')
    with pytest.raises(ConfigError, match="^learning_rate: unknown key"):
        load_config(["--config", str(bad)])
    with pytest.raises(ConfigError, match="^max_steps: expected int"):
        load_config(["--config", TINY, "--data", "m.json", "--max_steps", "ten"])
    bad.write_text('data = "m.json"\nlr = "fast"\n')
    with pytest.raises(ConfigError, match="^lr: expected float"):
        load_config(["--config", str(bad)])


@pytest.mark.parametrize("argv, key", [(["--lr_max", "1"], "lr_max"), (["--max_steps", "1.5"], "max_steps")])
def test_bad_config_exits_2_with_one_line(argv, key, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--config", TINY, "--data", "m.json", *argv])  # before any process group exists
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"config error: {key}:"), err
    with pytest.raises(SystemExit):
        parse_or_exit(["--config", TINY])  # data is required
    assert capsys.readouterr().err.startswith("config error: data: required")


def test_lr_schedule():
    cfg = TrainConfig(lr=1.0, warmup_steps=10, max_steps=110, min_lr_ratio=0.1)
    assert [lr_at(s, cfg) for s in (1, 5, 10)] == pytest.approx([0.1, 0.5, 1.0])
    assert lr_at(60, cfg) == pytest.approx(0.55)  # half way down the cosine: (1 + 0.1) / 2
    assert lr_at(110, cfg) == pytest.approx(0.1) and lr_at(500, cfg) == pytest.approx(0.1)
