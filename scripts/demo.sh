#!/usr/bin/env bash
# The main job on the embedded defaults: set up, then simulate and plot spectra.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. .venv/bin/activate
export PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1 MPLBACKEND=Agg
spectroflow simulate --n 16 --seed 1 --out spectra.png "$@"
