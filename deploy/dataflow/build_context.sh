#!/usr/bin/env bash
# Prints the path of a fresh, small Docker build context for deploy/dataflow/Dockerfile{,.flex}:
# pyproject.toml, README.md, NOTICE, pipeline/, schemas/ and deploy/dataflow/ (no .venv, no
# caches, no bench/ or tests/). Works with the legacy builder, BuildKit and `gcloud builds submit`.
#   CTX=$(deploy/dataflow/build_context.sh [DEST_DIR])
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEST="${1:-$(mktemp -d "${TMPDIR:-/tmp}/corpusforge-image-ctx.XXXXXX")}"
mkdir -p "$DEST"
tar -C "$ROOT" --exclude='__pycache__' --exclude='*.pyc' --exclude='*.egg-info' \
    -cf - pyproject.toml README.md NOTICE pipeline schemas deploy/dataflow | tar -C "$DEST" -xf -
echo "$DEST"
