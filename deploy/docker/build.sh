#!/usr/bin/env bash
# Build the CPU and the CUDA image of the same code: spectroflow:cpu, spectroflow:cuda.
set -euo pipefail
cd "$(dirname "$0")/../.."
docker build -f deploy/docker/Dockerfile -t spectroflow:cpu .
docker build -f deploy/docker/Dockerfile --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128 \
  -t spectroflow:cuda .
