#!/usr/bin/env bash
# Checks the worker image's recipe where the real base image cannot be pulled, then runs the
# pipeline inside the result on the built-in sample with the DirectRunner.
#
#   deploy/dataflow/check_image_locally.sh            # MODE=auto: real base, else stand-in, else venv
#   MODE=real     deploy/dataflow/check_image_locally.sh   # apache/beam_python3.11_sdk:2.77.0 (needs Docker Hub)
#   MODE=standin  deploy/dataflow/check_image_locally.sh   # Debian bookworm + Python 3.11 + apache-beam[gcp]
#   MODE=venv     deploy/dataflow/check_image_locally.sh   # no Docker: the Dockerfile's RUN lines in a venv
#
# MODE=real builds deploy/dataflow/Dockerfile unchanged. MODE=standin builds the SAME Dockerfile
# with BASE_IMAGE set to a stand-in for Beam's SDK image: a Debian bookworm root filesystem made
# by debootstrap from deb.debian.org (Beam's image is python:3.11-bookworm based), with a Python
# 3.11 venv holding apache-beam[gcp]==2.77.0 first on PATH, as `python`/`pip` are in Beam's image
# (Python headers and g++ included, as in python:3.11-bookworm). What the stand-in lacks is Beam's
# /opt/apache/beam/boot (the worker entry point Dataflow starts), so it proves the install steps
# and the pipeline, not the boot. MODE=venv replays the
# Dockerfile's RUN lines (same requirements file, same `pip install --no-deps`, same image_check.py)
# in a fresh Python 3.11 venv.
#
# Needs: Docker (real, standin), root + debootstrap (standin, once), python3.11 (venv), network
# access to PyPI. Writes under WORK_DIR (default /tmp/corpusforge-image-check).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BEAM_VERSION="${BEAM_VERSION:-2.77.0}"
MODE="${MODE:-auto}"
WORK_DIR="${WORK_DIR:-/tmp/corpusforge-image-check}"
IMAGE="${IMAGE:-corpusforge-worker:${BEAM_VERSION}-check}"
STANDIN_BASE="corpusforge-standin-beam-sdk:py3.11-${BEAM_VERSION}"
mkdir -p "$WORK_DIR"

# The run inside the image/venv: the sample, DirectRunner, 2 workers, then the outputs a trainer needs.
# shellcheck disable=SC2016  # expanded by the shell inside the image, not here
RUN_SAMPLE='set -e
out=/tmp/corpusforge-sample-run
python -m pipeline.run --runner=DirectRunner --direct_num_workers=2 --direct_running_mode=multi_processing --output "$out" --overwrite
python - "$out" <<PY
import json, sys
from schemas.reader import TokenData
out = sys.argv[1]
stats = json.load(open(out + "/stats.json"))
data = TokenData(out + "/tokens/manifest.json")
for i in range(len(data.shards)):
    data.open_shard(i)  # sha256 checked against the manifest
print("check: stats.json accounting holds =", stats["accounting"]["holds"], "| shards verified:", len(data.shards))
sys.exit(0 if stats["accounting"]["holds"] else 1)
PY'

docker_ok() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

build_worker() {  # $1: base image
    local ctx
    ctx="$("$ROOT/deploy/dataflow/build_context.sh" "$WORK_DIR/context")"
    docker build --network=host --build-arg "BASE_IMAGE=$1" -f "$ctx/deploy/dataflow/Dockerfile" -t "$IMAGE" "$ctx"
}

run_in_image() {
    # --entrypoint: Beam's image boots /opt/apache/beam/boot; here we only want a shell.
    docker run --rm --network=host --entrypoint /bin/sh "$IMAGE" -c "$RUN_SAMPLE"
}

mode_real() {
    echo "== MODE=real: docker build FROM apache/beam_python3.11_sdk:${BEAM_VERSION}"
    build_worker "apache/beam_python3.11_sdk:${BEAM_VERSION}"
    run_in_image
}

mode_standin() {
    echo "== MODE=standin: the same Dockerfile on a Debian bookworm + Python 3.11 + apache-beam[gcp]==${BEAM_VERSION} base"
    if ! docker image inspect "$STANDIN_BASE" >/dev/null 2>&1; then
        local rootfs="$WORK_DIR/rootfs-bookworm"
        if [ ! -x "$rootfs/usr/bin/python3.11" ]; then
            command -v debootstrap >/dev/null 2>&1 || { echo "MODE=standin needs debootstrap (apt-get install debootstrap)" >&2; exit 2; }
            debootstrap --variant=minbase \
                --include=python3.11,python3.11-venv,python3.11-dev,python3-pip,ca-certificates,g++,make,zlib1g-dev,libbz2-dev,liblzma-dev \
                bookworm "$rootfs" http://deb.debian.org/debian
        fi
        tar -C "$rootfs" -cf - . | docker import - corpusforge-standin-rootfs:bookworm
        mkdir -p "$WORK_DIR/standin"
        # Behind a TLS-intercepting proxy (as on the machine this was checked on: pip there uses
        # PIP_CERT), the stand-in trusts the host's CA bundle; Beam's real image is not touched.
        local ca_lines=""
        if [ -n "${HOST_CA_BUNDLE:-${PIP_CERT:-}}" ] && [ -f "${HOST_CA_BUNDLE:-${PIP_CERT:-}}" ]; then
            cp "${HOST_CA_BUNDLE:-${PIP_CERT:-}}" "$WORK_DIR/standin/host-ca.crt"
            ca_lines=$'COPY host-ca.crt /etc/ssl/certs/ca-certificates.crt\nENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt'
        fi
        cat > "$WORK_DIR/standin/Dockerfile" <<EOF
FROM corpusforge-standin-rootfs:bookworm
${ca_lines}
# Beam's image (python:3.11-bookworm) has the Python headers; kenlm and fasttext compile against them.
RUN apt-get update && apt-get install -y --no-install-recommends python3.11-dev && rm -rf /var/lib/apt/lists/*
RUN python3.11 -m venv /usr/local/beam \\
    && /usr/local/beam/bin/pip install --no-cache-dir --disable-pip-version-check "apache-beam[gcp]==${BEAM_VERSION}"
ENV PATH=/usr/local/beam/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
EOF
        docker build --network=host -t "$STANDIN_BASE" "$WORK_DIR/standin"
    fi
    build_worker "$STANDIN_BASE"
    run_in_image
}

mode_venv() {
    echo "== MODE=venv: the Dockerfile's RUN lines in a fresh Python 3.11 venv (no Docker)"
    local py="${PYTHON:-python3.11}" venv="$WORK_DIR/venv" ctx
    "$py" -m venv --clear "$venv"
    ctx="$("$ROOT/deploy/dataflow/build_context.sh" "$WORK_DIR/context")"
    # Beam's image has apache-beam[gcp] preinstalled; the Dockerfile then runs these three lines.
    "$venv/bin/pip" install --no-cache-dir --disable-pip-version-check "apache-beam[gcp]==${BEAM_VERSION}"
    "$venv/bin/pip" install --no-cache-dir --disable-pip-version-check -r "$ctx/deploy/dataflow/requirements-worker.txt"
    "$venv/bin/pip" install --no-cache-dir --disable-pip-version-check --no-deps "$ctx"
    (cd "$WORK_DIR" && "$venv/bin/python" "$ctx/deploy/dataflow/image_check.py")
    (cd "$WORK_DIR" && PATH="$venv/bin:$PATH" sh -c "$RUN_SAMPLE")
}

case "$MODE" in
    real) mode_real ;;
    standin) mode_standin ;;
    venv) mode_venv ;;
    auto)
        if docker_ok; then
            if docker pull "apache/beam_python3.11_sdk:${BEAM_VERSION}"; then mode_real
            else echo "(the real base image cannot be pulled here: falling back to the stand-in base)"; mode_standin; fi
        else
            echo "(no Docker engine reachable: falling back to MODE=venv)"; mode_venv
        fi ;;
    *) echo "MODE must be auto, real, standin or venv, not '$MODE'" >&2; exit 2 ;;
esac
echo "== check_image_locally.sh ($MODE): OK"
