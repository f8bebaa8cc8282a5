#!/usr/bin/env bash
# Renders pytorchjob.yaml with your values; refuses to run with one unset, naming it.
#   deploy/trainer/render_pytorchjob.sh | kubectl apply -f -
# Variables: deploy/README.md, "Trainer: Kubernetes".
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export TRAIN_CONFIG="${TRAIN_CONFIG:-350m}"
export NAMESPACE="${NAMESPACE:-default}"
export K8S_SERVICE_ACCOUNT="${K8S_SERVICE_ACCOUNT:-default}"
for v in JOB_NAME TRAINER_IMAGE NNODES DATA_URI CHECKPOINT_PVC; do
    if [ -z "${!v:-}" ]; then echo "render_pytorchjob.sh: $v is not set (see deploy/README.md, Trainer: Kubernetes)" >&2; exit 2; fi
done
[[ "$NNODES" =~ ^[1-9][0-9]*$ ]] || { echo "render_pytorchjob.sh: NNODES must be a positive integer, got '$NNODES'" >&2; exit 2; }
[ -f "$HERE/../../trainer/configs/$TRAIN_CONFIG.toml" ] || { echo "render_pytorchjob.sh: no trainer/configs/$TRAIN_CONFIG.toml" >&2; exit 2; }
export OUT_SUBDIR="${OUT_SUBDIR:-$JOB_NAME}"
export WORKER_REPLICAS=$(( NNODES - 1 ))
# shellcheck disable=SC2016  # the ${...} are envsubst's, not the shell's
# Only these are substituted: $RANK, $MASTER_ADDR, $MASTER_PORT stay for the pod's shell.
envsubst '${JOB_NAME} ${NAMESPACE} ${K8S_SERVICE_ACCOUNT} ${DATA_URI} ${TRAINER_IMAGE} ${NNODES} ${TRAIN_CONFIG} ${OUT_SUBDIR} ${CHECKPOINT_PVC} ${WORKER_REPLICAS}' \
    < "$HERE/pytorchjob.yaml"
