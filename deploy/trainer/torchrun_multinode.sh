#!/usr/bin/env bash
# Multi-node training with torchrun: run THIS SAME COMMAND on every node (ssh/pdsh loop, a
# scheduler, or slurm.sbatch, which calls it through srun). Variables: deploy/README.md,
# "Trainer: torchrun on several nodes".
#
#   export NNODES=4 MASTER_ADDR=node-0.example.internal OUT_DIR=/shared/runs/350m-a
#   export DATA_URI=gs://my-bucket/runs/2026-11-crawl/tokens     # or a shared-filesystem folder
#   deploy/trainer/torchrun_multinode.sh [extra trainer flags, e.g. --max_steps 20000]
#
# Rendezvous: c10d (torchrun's built-in TCPStore) on MASTER_ADDR:MASTER_PORT; node ranks are
# assigned at rendezvous, so no NODE_RANK is needed (set it anyway with NODE_RANK for a static
# order). NNODES is fixed on purpose: a resumed run must have the world size it was saved with
# (trainer/data.py refuses a checkpoint made with another one), so an elastic MIN:MAX range
# would make checkpoints unusable when the size changes.
#
# Data: the trainer reads local files (memory-mapped shards whose sha256 it checks). With
# DATA_URI on gs:// or s3://, each node first copies the tokens/ folder to LOCAL_DATA_DIR on its
# own disk (rsync: a re-run copies nothing new); with a shared filesystem, DATA_URI is that path
# and nothing is copied. OUT_DIR must be on a filesystem every node sees (NFS, Lustre, Filestore,
# EFS...): every rank writes its own checkpoint shards into OUT_DIR/checkpoints/step-N.tmp and
# rank 0 renames the folder once all have written.
set -euo pipefail

for v in NNODES MASTER_ADDR OUT_DIR DATA_URI; do
    if [ -z "${!v:-}" ]; then echo "torchrun_multinode.sh: $v is not set (see deploy/README.md, Trainer)" >&2; exit 2; fi
done
NPROC_PER_NODE="${NPROC_PER_NODE:-8}"
MASTER_PORT="${MASTER_PORT:-29500}"
RDZV_ID="${RDZV_ID:-corpusforge-$(basename "$OUT_DIR")}"
CONFIG="${CONFIG:-trainer/configs/350m.toml}"
LOCAL_DATA_DIR="${LOCAL_DATA_DIR:-/tmp/corpusforge-tokens}"
REPO_DIR="${REPO_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"

# ---- data: object storage -> node-local disk; a local/shared path is used as it is
case "$DATA_URI" in
    gs://*)
        mkdir -p "$LOCAL_DATA_DIR"
        gcloud storage rsync --recursive "${DATA_URI%/}" "$LOCAL_DATA_DIR"
        DATA="$LOCAL_DATA_DIR/manifest.json" ;;
    s3://*)
        mkdir -p "$LOCAL_DATA_DIR"
        aws s3 sync --only-show-errors "${DATA_URI%/}" "$LOCAL_DATA_DIR"
        DATA="$LOCAL_DATA_DIR/manifest.json" ;;
    *)
        DATA="${DATA_URI%/}/manifest.json" ;;
esac
[ -f "$DATA" ] || { echo "torchrun_multinode.sh: no manifest at $DATA" >&2; exit 2; }

# ---- NCCL and threads: safe defaults; set the interface/HCA names your cluster uses
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-8}"
export TORCH_NCCL_ASYNC_ERROR_HANDLING="${TORCH_NCCL_ASYNC_ERROR_HANDLING:-1}"
export NCCL_DEBUG="${NCCL_DEBUG:-WARN}"
[ -n "${NCCL_SOCKET_IFNAME:-}" ] && export NCCL_SOCKET_IFNAME   # e.g. eth0, ens5, ib0
[ -n "${NCCL_IB_HCA:-}" ] && export NCCL_IB_HCA                 # e.g. mlx5

node_rank=()
[ -n "${NODE_RANK:-}" ] && node_rank=(--node_rank "$NODE_RANK")

cd "$REPO_DIR"
# --resume always: it starts fresh when OUT_DIR has no checkpoint, and continues exactly where
# the last complete one stopped otherwise (same losses and tokens as an uninterrupted run).
exec torchrun \
    --nnodes "$NNODES" \
    --nproc_per_node "$NPROC_PER_NODE" \
    ${node_rank[@]+"${node_rank[@]}"} \
    --rdzv_backend c10d \
    --rdzv_endpoint "$MASTER_ADDR:$MASTER_PORT" \
    --rdzv_id "$RDZV_ID" \
    --rdzv_conf join_timeout=1800 \
    --max_restarts "${MAX_RESTARTS:-0}" \
    -m trainer.train \
    --config "$CONFIG" \
    --data "$DATA" \
    --out_dir "$OUT_DIR" \
    --resume \
    "$@"
