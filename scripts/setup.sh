#!/usr/bin/env bash
# Create .venv (if absent) and install spectroflow with pinned, offline-safe deps.
# Idempotent: a second run only checks that everything is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
stamp=.venv/.spectroflow-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  # torch first and pinned: the CPU build on disk; an unpinned torch pulls a CUDA build.
  pip install --quiet --disable-pip-version-check "torch==2.13.0"
  pip install --quiet --disable-pip-version-check -e ".[test]"
  # PypeIt only for its night-sky spectrum file: its GUI dependencies are not needed.
  pip install --quiet --disable-pip-version-check --no-deps "pypeit==2.0.1"
  touch "$stamp"
fi
# Real spectra with published redshifts (storage/real_spectra.json), unpacked from pinned
# wheels into data/real_spectra/; without a registry their tests and benchmark are skipped.
python scripts/unpack_real_spectra.py || echo "setup: real spectra not unpacked (see above); their tests will be skipped" >&2
