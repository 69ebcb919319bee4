#!/usr/bin/env bash
# The main job on the embedded defaults (local Dask, local Zarr, local Prefect server):
# generate a training store of synthetic spectra, verify it, and plot a few spectra.
# Rerunning resumes an interrupted store and leaves a complete one alone.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. .venv/bin/activate
export PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1 MPLBACKEND=Agg
mkdir -p data
spectroflow generate --n "${N:-32768}" --out data/train.zarr "$@"
spectroflow verify data/train.zarr
spectroflow simulate --n 16 --seed 1 --out data/spectra.png
