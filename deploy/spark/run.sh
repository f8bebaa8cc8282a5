#!/usr/bin/env bash
# Start the local Spark cluster of docker-compose.yml and run corpusforge on it (deploy/run_portable.sh).
#   deploy/spark/run.sh        up + run;   deploy/spark/run.sh down   stops everything
exec "$(dirname "${BASH_SOURCE[0]}")/../run_portable.sh" spark "$@"
