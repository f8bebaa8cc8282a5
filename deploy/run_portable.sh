#!/usr/bin/env bash
# Start the local Flink or Spark cluster of deploy/<engine>/docker-compose.yml and run corpusforge
# on it through Beam's portable runner. Called by deploy/flink/run.sh and deploy/spark/run.sh;
# variables: deploy/README.md, "Flink" and "Spark".
#
#   export CORPUSFORGE_IMAGE=corpusforge-worker:2.77.0      # built from deploy/dataflow/Dockerfile
#   export DATA_DIR=$PWD/data INPUT='/data/in/*.jsonl.gz' OUTPUT=/data/runs/flink-1
#   deploy/flink/run.sh            # up + run;  deploy/flink/run.sh down   stops everything
#
# The pipeline is sent to the engine's job server (--job_endpoint); its Python code runs in the
# worker pool (--environment_type=EXTERNAL). Submitting from the same image as the worker pool
# keeps the models' paths identical on both sides (deploy/README.md, "Known limits").
set -euo pipefail
ENGINE="$1"; shift
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/$ENGINE" && pwd)"
COMPOSE=(docker compose -f "$HERE/docker-compose.yml")
case "$ENGINE" in
    flink) NAME=Flink; RUNNER=FlinkRunner; SERVICES=(flink-jobmanager flink-taskmanager python-worker-pool flink-job-server)
           export TASK_SLOTS="${TASK_SLOTS:-2}"; ENGINE_FLAGS=(--parallelism="$TASK_SLOTS"); UI=http://localhost:8081 ;;
    spark) NAME=Spark; RUNNER=SparkRunner; SERVICES=(spark-master spark-worker python-worker-pool spark-job-server)
           export SPARK_WORKER_CORES="${SPARK_WORKER_CORES:-2}"; ENGINE_FLAGS=(); UI=http://localhost:8080 ;;
    *) echo "run_portable.sh: engine must be flink or spark, got $ENGINE" >&2; exit 2 ;;
esac

if [ "${1:-}" = "down" ]; then
    CORPUSFORGE_IMAGE="${CORPUSFORGE_IMAGE:-unused}" "${COMPOSE[@]}" --profile submit down -v; exit 0
fi

for v in CORPUSFORGE_IMAGE INPUT OUTPUT; do
    if [ -z "${!v:-}" ]; then echo "run.sh: $v is not set (see deploy/README.md, $NAME)" >&2; exit 2; fi
done
export DATA_DIR="${DATA_DIR:-$HERE/data}"
case "$INPUT$OUTPUT" in
    *gs://*|*s3://*|*hdfs://*) ;;  # object stores: every container reaches them itself
    *) [[ "$INPUT" == /data/* && "$OUTPUT" == /data/* ]] || {
           echo "run.sh: local INPUT and OUTPUT must be under /data (DATA_DIR=$DATA_DIR is mounted there in every container)" >&2; exit 2; } ;;
esac
mkdir -p "$DATA_DIR"

"${COMPOSE[@]}" up -d "${SERVICES[@]}"
echo "waiting for the job server on localhost:8099 ..."
for _ in $(seq 1 60); do
    if (exec 3<>/dev/tcp/127.0.0.1/8099) 2>/dev/null; then break; fi
    sleep 2
done

input_flags=()
IFS=',' read -r -a inputs <<< "$INPUT"   # comma-separated; globs are expanded by Beam, not here
for i in "${inputs[@]}"; do input_flags+=(--input "$i"); done
extra=()
[ -n "${CONFIG:-}" ] && extra+=(--config "$CONFIG")
[ "${OVERWRITE:-false}" = "true" ] && extra+=(--overwrite)

"${COMPOSE[@]}" run --rm submit \
    --runner="$RUNNER" \
    --job_endpoint="$ENGINE-job-server:8099" \
    --artifact_endpoint="$ENGINE-job-server:8098" \
    --environment_type=EXTERNAL \
    --environment_config=localhost:50000 \
    ${ENGINE_FLAGS[@]+"${ENGINE_FLAGS[@]}"} \
    "${input_flags[@]}" --output "$OUTPUT" ${extra[@]+"${extra[@]}"}
echo "$NAME UI: $UI   outputs: $DATA_DIR${OUTPUT#/data}"
