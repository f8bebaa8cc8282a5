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
