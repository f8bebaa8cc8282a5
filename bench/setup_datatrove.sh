#!/usr/bin/env bash
# Creates bench/.venv-datatrove: datatrove 0.10.x and what its local executor, Gopher filters,
# fastText language filter, MinHash dedup and tokenizer stage need offline, from PyPI.
# The project never imports datatrove from here; bench/e2e_datatrove.py runs it as a subprocess
# (bench/dt_pipeline.py with this venv's python). Idempotent: re-running only checks.
#
#   bash bench/setup_datatrove.sh            # uses python3.11 if present, else python3
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VENV="$HERE/.venv-datatrove"
PY="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# datatrove core + the parts of its [processing] extra these stages import:
#   spacy (its English word tokenizer, blank model: no download), fasttext-numpy2-wheel + fasteners
#   (LanguageFilter), xxhash (MinHash hashing), regex, tokenizers (DocumentTokenizer), orjson (JSONL I/O).
"$VENV/bin/python" -m pip install --quiet \
  "datatrove==0.10.*" "spacy>=3.8,<3.9" fasttext-numpy2-wheel fasteners "xxhash<4" regex tokenizers orjson
"$VENV/bin/python" - <<'PY'
import importlib.metadata as m
for d in ("datatrove", "spacy", "fasttext-numpy2-wheel", "xxhash", "tokenizers", "numpy"):
    print(d, m.version(d))
import spacy; spacy.blank("en")
from datatrove.executor import LocalPipelineExecutor  # noqa: F401
from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter, LanguageFilter  # noqa: F401
from datatrove.pipeline.dedup import MinhashDedupSignature  # noqa: F401
print("datatrove venv ok:", __import__("sys").prefix)
PY
