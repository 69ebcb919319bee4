#!/usr/bin/env bash
# The main job on the embedded defaults (local Dask, local Zarr, local Prefect server):
# `spectroflow demo` generates a training store, trains the default network within a
# time budget, generates a separate simulated survey, scores it into a catalogue,
# evaluates it and prints a summary. Everything lands in data/demo; a rerun reuses
# what is complete. Options pass through (e.g. --train-minutes 5, --fresh; --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. .venv/bin/activate
export PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1 MPLBACKEND=Agg
mkdir -p data
exec spectroflow demo "$@"
