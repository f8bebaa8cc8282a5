#!/usr/bin/env bash
# Build the worker + Flex Template image, push it, build the Flex Template spec, run a job.
# Every variable is explained in deploy/README.md ("Dataflow"); required ones must be exported.
#
#   export PROJECT_ID=... REGION=... BUCKET=gs://... AR_REPO=... INPUT='gs://.../*.jsonl.gz' OUTPUT=gs://.../runs/x
#   deploy/dataflow/launch.sh                    # image, template, run
#   deploy/dataflow/launch.sh run                # run again with the template built before
#   DRY_RUN=1 deploy/dataflow/launch.sh          # print every command, run none
#
# Steps: image (docker build + push, or Cloud Build with BUILDER=cloudbuild), template
# (gcloud dataflow flex-template build), run (gcloud dataflow flex-template run).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STEPS=("$@")
[ ${#STEPS[@]} -eq 0 ] && STEPS=(image template run)

# ---- settings: required ones have no default
need() {  # refuse to run with a placeholder unset, empty or left as an example from the README
    local name="$1" value="${!1:-}"
    if [ -z "$value" ]; then
        echo "launch.sh: $name is not set (see deploy/README.md, Dataflow: what it is and where to find it)" >&2; exit 2
    fi
    case "$value" in
        *"<"*">"*|*CHANGE_ME*|*YOUR_*|*your-project*|*my-bucket*|*my-project*)
            echo "launch.sh: $name is still a placeholder ('$value'); set it to your own value" >&2; exit 2 ;;
    esac
}
for v in PROJECT_ID REGION BUCKET AR_REPO; do need "$v"; done
case " ${STEPS[*]} " in *" run "*) need INPUT; need OUTPUT ;; esac
[[ "$BUCKET" == gs://* ]] || { echo "launch.sh: BUCKET must start with gs:// (got '$BUCKET')" >&2; exit 2; }
BUCKET="${BUCKET%/}"

BEAM_VERSION="${BEAM_VERSION:-2.77.0}"   # must equal apache-beam in the image (requirements-worker.txt)
IMAGE_TAG="${IMAGE_TAG:-$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || date -u +%Y%m%d-%H%M%S)}"
IMAGE="${IMAGE:-${REGION}-docker.pkg.dev/${PROJECT_ID}/${AR_REPO}/corpusforge:${IMAGE_TAG}}"
WORKER_IMAGE="${IMAGE}-worker"           # Dockerfile; IMAGE itself = worker + Flex launcher (Dockerfile.flex)
TEMPLATE_PATH="${TEMPLATE_PATH:-${BUCKET}/templates/corpusforge-${IMAGE_TAG}.json}"
JOB_NAME="${JOB_NAME:-corpusforge-$(date -u +%Y%m%d-%H%M%S)}"
MACHINE_TYPE="${MACHINE_TYPE:-n2-standard-8}"
NUM_WORKERS="${NUM_WORKERS:-4}"
MAX_WORKERS="${MAX_WORKERS:-32}"
DISK_SIZE_GB="${DISK_SIZE_GB:-50}"
HARNESS_THREADS="${HARNESS_THREADS:-2}"
CONFIG="${CONFIG:-}"
OVERWRITE="${OVERWRITE:-false}"
BUILDER="${BUILDER:-docker}"             # docker (local engine) or cloudbuild (gcloud builds submit)
SERVICE_ACCOUNT="${SERVICE_ACCOUNT:-}"   # worker service account e-mail; empty: the Compute Engine default
SUBNETWORK="${SUBNETWORK:-}"             # e.g. regions/us-central1/subnetworks/default; empty: default network
DRY_RUN="${DRY_RUN:-0}"

run() {  # print, then run unless DRY_RUN=1
    printf '+'; printf ' %q' "$@"; printf '\n'
    [ "$DRY_RUN" = "1" ] || "$@"
}

step_image() {
    local ctx
    ctx="$("$ROOT/deploy/dataflow/build_context.sh")"
    if [ "$BUILDER" = "cloudbuild" ]; then
        run gcloud builds submit "$ctx" --project "$PROJECT_ID" --region "$REGION" \
            --config "$ctx/deploy/dataflow/cloudbuild.yaml" \
            --substitutions "_WORKER_IMAGE=${WORKER_IMAGE},_IMAGE=${IMAGE},_BEAM_VERSION=${BEAM_VERSION}"
    else
        run docker build -f "$ctx/deploy/dataflow/Dockerfile" --build-arg "BEAM_VERSION=${BEAM_VERSION}" -t "$WORKER_IMAGE" "$ctx"
        run docker build -f "$ctx/deploy/dataflow/Dockerfile.flex" --build-arg "WORKER_IMAGE=${WORKER_IMAGE}" -t "$IMAGE" "$ctx"
        run gcloud auth configure-docker "${REGION}-docker.pkg.dev" --quiet
        run docker push "$IMAGE"
    fi
}

step_template() {
    run gcloud dataflow flex-template build "$TEMPLATE_PATH" \
        --project "$PROJECT_ID" \
        --image "$IMAGE" \
        --sdk-language PYTHON \
        --metadata-file "$ROOT/deploy/dataflow/metadata.json"
}

step_run() {
    # Parameters go through gcloud's alternate-delimiter syntax (^~^): INPUT may hold commas.
    local params="^~^input=${INPUT}~output=${OUTPUT}~overwrite=${OVERWRITE}~sdk_container_image=${IMAGE}"
    params+="~disk_size_gb=${DISK_SIZE_GB}~number_of_worker_harness_threads=${HARNESS_THREADS}"
    [ -n "$CONFIG" ] && params+="~config=${CONFIG}"
    local extra=()
    [ -n "$SERVICE_ACCOUNT" ] && extra+=(--service-account-email "$SERVICE_ACCOUNT")
    [ -n "$SUBNETWORK" ] && extra+=(--subnetwork "$SUBNETWORK")
    run gcloud dataflow flex-template run "$JOB_NAME" \
        --project "$PROJECT_ID" \
        --region "$REGION" \
        --template-file-gcs-location "$TEMPLATE_PATH" \
        --temp-location "${BUCKET}/tmp" \
        --staging-location "${BUCKET}/staging" \
        --worker-machine-type "$MACHINE_TYPE" \
        --num-workers "$NUM_WORKERS" \
        --max-workers "$MAX_WORKERS" \
        --additional-experiments use_runner_v2 \
        --parameters "$params" \
        ${extra[@]+"${extra[@]}"}
    echo "job $JOB_NAME submitted: https://console.cloud.google.com/dataflow/jobs?project=${PROJECT_ID}"
    echo "when it finishes: gsutil cat ${OUTPUT%/}/stats.json | head   (no stats.json = the run did not finish)"
}

for step in "${STEPS[@]}"; do
    case "$step" in
        image) step_image ;;
        template) step_template ;;
        run) step_run ;;
        *) echo "launch.sh: unknown step '$step' (image, template, run)" >&2; exit 2 ;;
    esac
done
