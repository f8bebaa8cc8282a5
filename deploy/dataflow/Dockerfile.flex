# Flex Template image = the worker image + Google's Python template launcher.
#
# The same image is then both the template's launcher and the job's workers
# (sdk_container_image in metadata.json's defaults is set to it by launch.sh), the layout Google's
# "Configure Flex Templates" page recommends for custom containers: the graph is built where the
# workers' paths and package versions are exactly the same.
#
#   docker build -f deploy/dataflow/Dockerfile.flex --build-arg WORKER_IMAGE=IMAGE -t IMAGE_FLEX "$CTX"
#
# LAUNCHER_IMAGE: Google's launcher base for Python 3.11; pin a dated tag for reproducible builds
# (list them: gcloud container images list-tags gcr.io/dataflow-templates-base/python311-template-launcher-base).
ARG LAUNCHER_IMAGE=gcr.io/dataflow-templates-base/python311-template-launcher-base:latest
ARG WORKER_IMAGE
FROM ${LAUNCHER_IMAGE} AS template_launcher

FROM ${WORKER_IMAGE}
COPY --from=template_launcher /opt/google/dataflow/python_template_launcher /opt/google/dataflow/python_template_launcher
# The launcher runs `python $FLEX_TEMPLATE_PYTHON_PY_FILE --input=... --output=... <Dataflow options>`.
ENV FLEX_TEMPLATE_PYTHON_PY_FILE=/opt/corpusforge/flex_main.py
# Everything is installed already: the launcher must not pip-install anything at launch time.
ENV PIP_NO_DEPS=True
# ENTRYPOINT stays /opt/apache/beam/boot, so this image also runs as the job's SDK workers.
