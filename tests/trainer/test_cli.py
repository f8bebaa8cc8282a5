"""The trainer's command line as a new user meets it: --help, and one line with status 2 for every
bad option, file or resume, in a plain process and under torchrun (real processes)."""

import os
import socket
import subprocess
import sys
from dataclasses import fields

import pytest

from tests.trainer.shards import write_test_shards
from trainer.config import TrainConfig

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = os.path.join(ROOT, "trainer", "configs", "tiny.toml")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(*args: str, ranks: int = 0) -> subprocess.CompletedProcess:
    """`python -m <module> args` (ranks 0), or torchrun with that many ranks."""
    if ranks:
        command = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={ranks}", f"--master_port={_free_port()}", "-m", *args]
    else:
        command = [sys.executable, "-m", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def _one_line(done: subprocess.CompletedProcess, starts: str, *contains: str) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr and done.stdout == "", done.stderr[-2000:]
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(starts), done.stderr
    for text in contains:
        assert text in done.stderr, done.stderr
    return done.stderr


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> str:
    return write_test_shards(tmp_path_factory.mktemp("shards"), docs=60, max_doc_len=60)


def test_train_help_lists_every_option_with_its_default_and_exits_0():
    done = _run("trainer.train", "--help")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("usage: python -m trainer.train")
    for f in fields(TrainConfig):
        line = next((x for x in lines if x.strip().startswith(f"--{f.name} ")), None)
        assert line is not None, f.name
        assert f.metadata["help"] in line and "(default: " in line, line
    assert any(x.strip().startswith("--lr FLOAT") and "(default: 0.0006)" in x for x in lines)
    assert any(x.strip().startswith("--preset STR") and '(default: "125m")' in x for x in lines)
    assert _run("trainer.train", "--data", "x", "-h").stdout == done.stdout  # -h anywhere


def test_plan_help_exits_0_and_a_bad_option_is_one_line():
    done = _run("trainer.plan", "--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: python -m trainer.plan") and "--params" in done.stdout
    _one_line(_run("trainer.plan", "--data", "m.json", "--preset", "huge"), "python -m trainer.plan: error: argument --preset: invalid choice")


def test_an_unknown_preset_names_the_valid_ones():
    err = _one_line(_run("trainer.train", "--preset", "huge"), "config error: preset: unknown preset 'huge'")
    assert "tiny, 10m, 50m, 125m, 350m, 760m, 1b" in err


def test_a_missing_or_unreadable_manifest(tmp_path):
    _one_line(
        _run("trainer.train", "--config", TINY, "--data", str(tmp_path / "nope.json"), "--out_dir", str(tmp_path / "o")),
        "error: data: cannot read",
        "nope.json",
        "No such file or directory",
    )
    os.makedirs(tmp_path / "dir.json")  # read as root, a chmod 000 file is still readable: a folder is not
    _one_line(
        _run("trainer.train", "--config", TINY, "--data", str(tmp_path / "dir.json"), "--out_dir", str(tmp_path / "o")),
        "error: data: cannot read",
        "Is a directory",
    )
    (tmp_path / "broken.json").write_text("{not json")
    _one_line(
        _run("trainer.train", "--config", TINY, "--data", str(tmp_path / "broken.json"), "--out_dir", str(tmp_path / "o")),
        "error: data: ",
        "broken.json",
        "not valid JSON",
    )


def test_a_manifest_whose_shard_is_gone(data, tmp_path):
    copy = tmp_path / "tokens"
    os.makedirs(copy)
    for name in os.listdir(os.path.dirname(data)):
        if name != "shard-00001.arrow":
            os.link(os.path.join(os.path.dirname(data), name), copy / name)
    _one_line(
        _run("trainer.train", "--config", TINY, "--data", str(copy / "manifest.json"), "--out_dir", str(tmp_path / "o")),
        "error: data: ",
        "shard shard-00001.arrow is missing",
    )


def test_a_bad_or_unreadable_toml_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('preset = "tiny"\nlr = \n')
    _one_line(_run("trainer.train", "--config", str(bad), "--data", "m.json"), "config error: config: ", "bad.toml is not valid TOML", "line 2")
    bad.write_bytes(b'preset = "\xff"\n')
    _one_line(_run("trainer.train", "--config", str(bad), "--data", "m.json"), "config error: config: ", "not valid TOML")
    _one_line(
        _run("trainer.train", "--config", str(tmp_path / "none.toml"), "--data", "m.json"),
        "config error: config: cannot read",
        "No such file or directory",
    )


def test_resume_without_a_checkpoint_is_an_error(data, tmp_path):
    out = tmp_path / "fresh"
    _one_line(
        _run("trainer.train", "--config", TINY, "--data", data, "--out_dir", str(out), "--resume"),
        "error: resume: no complete checkpoint in",
        "drop --resume",
    )
    os.makedirs(out / "checkpoints" / "step-000010.tmp")  # an unfinished save is no checkpoint either
    _one_line(_run("trainer.train", "--config", TINY, "--data", data, "--out_dir", str(out), "--resume"), "error: resume: no complete checkpoint")
    os.makedirs(out / "checkpoints" / "step-000005")  # ... and a fresh start into a run's folder is refused
    _one_line(
        _run("trainer.train", "--config", TINY, "--data", data, "--out_dir", str(out)), "error: out_dir: ", "already has checkpoints", "--resume"
    )


@pytest.mark.parametrize("bad", ["manifest", "preset"])
def test_under_torchrun_each_rank_stops_before_the_rendezvous_with_one_line(tmp_path, bad):
    if bad == "manifest":
        args, expected = ["--data", str(tmp_path / "nope.json")], f"error: data: cannot read {tmp_path / 'nope.json'}: No such file or directory"
    else:
        args, expected = ["--data", str(tmp_path / "nope.json"), "--preset", "huge"], "config error: preset: unknown preset 'huge'"
    done = _run("trainer.train", "--config", TINY, *args, "--out_dir", str(tmp_path / "o"), ranks=2)
    assert done.returncode != 0
    ours = [line for line in done.stderr.splitlines() if "error:" in line and "ChildFailedError" not in line]
    assert len(ours) == 1 and ours[0].startswith(expected), done.stderr[-3000:]  # both ranks failed, one line shown
    assert "[rank0]" not in done.stderr and "[rank1]" not in done.stderr  # no worker traceback
    # What torchrun itself prints: its ChildFailedError summary, naming the worker's exit code 2
    # (a rank still starting when the first exits is stopped by torchrun with SIGTERM).
    assert "ChildFailedError" in done.stderr and "exitcode  : 2" in done.stderr
