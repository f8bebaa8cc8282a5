#!/usr/bin/env bash
# Start the local Flink cluster of docker-compose.yml and run corpusforge on it (deploy/run_portable.sh).
#   deploy/flink/run.sh        up + run;   deploy/flink/run.sh down   stops everything
exec "$(dirname "${BASH_SOURCE[0]}")/../run_portable.sh" flink "$@"
