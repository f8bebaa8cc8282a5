"""The README's recipes for reading the shards from other trainers, run exactly as written (only
OUT/tokens/manifest.json is replaced by a test manifest's path)."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from tests.trainer.shards import read_rows, write_test_shards

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def recipe(name: str, manifest: str) -> str:
    with open(os.path.join(ROOT, "README.md")) as f:
        found = re.findall(rf"<!-- recipe: {name} -->\n```python\n(.*?)```\n<!-- /recipe -->", f.read(), re.DOTALL)
    assert len(found) == 1, f"README has {len(found)} '{name}' recipes"
    assert "OUT/tokens/manifest.json" in found[0]
    return found[0].replace("OUT/tokens/manifest.json", manifest)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> str:
    return write_test_shards(tmp_path_factory.mktemp("shards"), docs=40, rows_per_shard=15)


def test_the_torch_recipe_yields_every_document(manifest):
    namespace = {}
    exec(compile(recipe("torch", manifest), "README.md recipe: torch", "exec"), namespace)  # noqa: S102 (the README's own code)
    docs = list(namespace["loader"])
    rows = read_rows(manifest)
    assert len(docs) == len(rows) and all(d.dtype == torch.int64 for d in docs)
    assert all(np.array_equal(d.numpy(), r.tokens) for d, r in zip(docs, rows))


def test_the_datasets_recipe_reads_every_row_offline(manifest, tmp_path):
    pytest.importorskip("datasets", reason="Hugging Face datasets is not installed (it is in the dev extra)")
    check = "\nimport json\nprint(json.dumps({'rows': ds.num_rows, **ds.to_dict()}))\n"
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", recipe("datasets", manifest) + check], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    rows = read_rows(manifest)
    assert got["rows"] == len(rows) and got["doc_id"] == [r.doc_id for r in rows]
    assert got["tokens"] == [r.tokens.tolist() for r in rows]
