#!/usr/bin/env bash
# Runs the image as Knative runs the predictor (knative/base/service.yaml): read-only root
# filesystem with nothing writable mounted, user 10001, every capability dropped, no privilege
# escalation, the default seccomp profile, PORT and K_REVISION set. Published on 127.0.0.1 only.
# Usage: PORT=8080 K_REVISION=house-price-v1 image/run.sh [TAG [PODMAN RUN OPTION...]]
#   e.g. image/run.sh localhost/house-price:dev --detach --name predictor
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-8080}
exec image/podman.sh run --rm "${@:2}" \
  --read-only --read-only-tmpfs=false \
  --user 10001:10001 --cap-drop ALL --security-opt no-new-privileges \
  --env PORT="$port" --env K_REVISION="${K_REVISION:-house-price-v1}" \
  --publish "127.0.0.1:$port:$port" \
  "${1:-localhost/house-price:dev}"
