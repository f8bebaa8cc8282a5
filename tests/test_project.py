"""The project's own promises about itself: README commands, CI, shipped config and sample."""

import glob
import os
import re

from pipeline.config import PipelineConfig, load_config
from pipeline.run import SAMPLE_GLOB

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _block(name: str) -> str:
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    match = re.search(rf"<!-- {name} -->\n```\n(.+?)\n```\n<!-- /{name} -->", readme, re.S)
    assert match, f"README has no {name} block"
    return match.group(1)


def test_readme_commands_install_torch_first_and_run_the_entry_points():
    run_cmd, test_cmd = _block("run-command"), _block("test-command")
    for cmd in (run_cmd, test_cmd):
        assert "pip install torch==2.13.0" in cmd and cmd.count("\n") == 0
    assert run_cmd.endswith("python -m pipeline.run --runner=DirectRunner")
    assert test_cmd.endswith("python -m pytest -q")


def test_ci_runs_the_readme_test_command():
    ci = open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8").read()
    assert "test-command" in ci and 'bash -c "$cmd"' in ci


def test_shipped_default_config_is_the_code_default():
    assert load_config(os.path.join(ROOT, "pipeline", "configs", "default.yaml")) == PipelineConfig()


def test_sample_ships_every_source_and_stays_small():
    files = sorted(glob.glob(SAMPLE_GLOB))
    names = {os.path.basename(f).split(".")[0] for f in files}
    assert names == {"web", "books", "code", "wiki", "academic", "curated"}
    assert sum(os.path.getsize(f) for f in files) < 5_000_000


def _entry_points() -> list[str]:
    """Every module of pipeline/ and trainer/ that runs as `python -m ...`."""
    modules = []
    for package in ("pipeline", "trainer"):
        for path in sorted(glob.glob(os.path.join(ROOT, package, "**", "*.py"), recursive=True)):
            if 'if __name__ == "__main__":' in open(path, encoding="utf-8").read():
                modules.append(os.path.relpath(path, ROOT)[: -len(".py")].replace(os.sep, "."))
    return modules


def test_every_entry_point_answers_help_and_does_nothing_else():
    import subprocess
    import sys

    modules = _entry_points()
    assert {"pipeline.run", "trainer.train", "trainer.plan", "pipeline.lm.train", "pipeline.text.tokenize.gpt2"} <= set(modules)
    running = {
        m: subprocess.Popen([sys.executable, "-m", m, "--help"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for m in modules
    }
    for module, proc in running.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"{module} --help: exit {proc.returncode}: {err[-500:]}"
        assert out.lstrip().startswith("usage:"), f"{module} --help printed no usage: {out[:200]!r}"
        assert "Traceback" not in err, module
