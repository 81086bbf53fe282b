#!/usr/bin/env bash
# Builds the predictor image from the repository's Dockerfile with podman and prints its size.
# Usage: image/build.sh [TAG [PODMAN BUILD OPTION...]]   (default tag localhost/house-price:dev)
#   e.g. image/build.sh localhost/house-price:v2 --build-arg MODEL_VERSION=2
# The base is PYTHON_IMAGE when set (python:3.11.13-slim-bookworm, as in production, wherever it
# can be pulled); otherwise the stand-in from image/base.sh, made first if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-localhost/house-price:dev}
standin=localhost/debian-python:3.11-bookworm
base=${PYTHON_IMAGE:-$standin}
if [[ $base == "$standin" ]] && ! image/podman.sh image exists "$standin"; then
  image/base.sh "$standin"
fi
# --network host: the build's pip reaches the package index as the host does.
image/podman.sh build --quiet --network host --build-arg PYTHON_IMAGE="$base" \
  --tag "$tag" "${@:2}" . >/dev/null
image/podman.sh image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$tag"
