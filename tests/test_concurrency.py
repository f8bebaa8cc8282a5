"""The whole pipeline under concurrent workers: the same bytes as one worker, run after run.

Beam runs bundles concurrently: on threads in one process (the DirectRunner's `in_memory` and
`multi_threading` modes) or in worker processes. A lazily grown table at module level, a model
shared without care, or the runner's own plumbing can then lose, corrupt or reorder data only
sometimes. Each run here is a fresh `python -m pipeline.run` process, as a user starts it, so
every module-level cache starts empty and has to grow while the workers race.
"""

import gzip
import json
import os
import re
import subprocess
import sys

import pytest

from pipeline import run
from tests.tree import tree_digest

SAMPLE = os.path.join(os.path.dirname(run.__file__), "sample", "data")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Every stage on, simhash too; a small tokenizer trained in the run (its bytes are checked as well).
CONFIG = """\
dedup:
  methods: [exact, paragraphs, minhash, simhash]
tokenizer:
  vocab_size: 1000
output:
  shard_bytes: 262144
  tokens_per_shard: 65536
"""
PER_SOURCE = {"web": 400, "wiki": 150, "books": 30, "curated": 120, "code": 40, "academic": 12}


def _records() -> list[dict]:
    """A mixed corpus from the sample with long documents (books, academic papers, code files
    up to 0.75 MB, and web pages joined into 200k-character documents), exact and near copies,
    and ids repeated across sources."""
    out = []
    for source, n in PER_SOURCE.items():
        with gzip.open(os.path.join(SAMPLE, f"{source}.jsonl.gz"), "rt", encoding="utf-8") as f:
            rows = [json.loads(line) for line, _ in zip(f, range(n))]
        out += [{"id": f"{source}-{i % 97}", "text": r["text"], "source": source} for i, r in enumerate(rows)]
    web = [r["text"] for r in out if r["source"] == "web"]
    joined = "\n".join(web)
    out += [{"id": f"long-{i}", "text": joined[i * 50_000 : i * 50_000 + 200_000], "source": "web"} for i in range(4)]
    out += [{"id": f"copy-{i}", "text": r["text"], "source": r["source"]} for i, r in enumerate(out[::25])]
    out += [{"id": f"near-{i}", "text": r["text"] + " (updated)", "source": r["source"]} for i, r in enumerate(out[5::30])]
    return out


def _progress(stdout: str) -> list[str]:
    """The progress lines without their elapsed time; sorted, since stages the runner fuses
    finish together and print in any order."""
    return sorted(re.sub(r"^\s*\[\s*[\d.]+s\]", "", line) for line in stdout.splitlines() if re.match(r"^\s*\[\s*[\d.]+s\]", line))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("concurrency")
    with gzip.open(folder / "in.jsonl.gz", "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in _records())
    (folder / "config.yaml").write_text(CONFIG)
    return folder


def _run(corpus, name: str, *runner: str) -> tuple[dict[str, str], list[str]]:
    out = corpus / name
    cmd = [
        sys.executable,
        "-m",
        "pipeline.run",
        "--runner=DirectRunner",
        *runner,
        "--input",
        str(corpus / "in.jsonl.gz"),
        "--config",
        str(corpus / "config.yaml"),
        "--output",
        str(out),
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(runner)}: exit {done.returncode}\n{done.stderr[-3000:]}"
    assert "(holds)" in done.stdout
    return tree_digest(out), _progress(done.stdout)


def test_threaded_and_process_workers_give_the_bytes_of_one_worker(corpus):
    files, progress = _run(corpus, "one", "--direct_num_workers=1")
    assert any(k.startswith("tokens/shard-") for k in files) and "report.html" in files and len(progress) >= 12
    for i in range(3):  # a race shows up only sometimes: several fresh processes
        assert _run(corpus, f"threads{i}", "--direct_num_workers=4", "--direct_running_mode=in_memory") == (files, progress), f"in_memory run {i}"
    for mode in ("multi_threading", "multi_processing"):
        assert _run(corpus, mode, "--direct_num_workers=4", f"--direct_running_mode={mode}") == (files, progress), mode
