#!/usr/bin/env bash
# Prints the path of a small Docker build context for deploy/trainer/Dockerfile.
#   CTX=$(deploy/trainer/build_context.sh) && docker build -f "$CTX/deploy/trainer/Dockerfile" -t "$TRAINER_IMAGE" "$CTX"
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEST="${1:-$(mktemp -d "${TMPDIR:-/tmp}/corpusforge-trainer-ctx.XXXXXX")}"
tar -C "$ROOT" --exclude='__pycache__' --exclude='*.pyc' -cf - pyproject.toml README.md NOTICE trainer schemas deploy/trainer \
    | tar -C "$DEST" -xf -
echo "$DEST"
