#!/usr/bin/env bash
# Print one blue/green phase of the house-price Knative Service, ready for `kubectl apply -f -`:
#   IMAGE=<registry>/house-price:<git-sha> RELEASE=<short git sha> knative/render.sh 2-green-at-0
# kubectl's built-in kustomize builds the phase; envsubst fills ${IMAGE} and ${RELEASE} (the
# revisions are house-price-v<model>-${RELEASE}) and nothing else.
set -euo pipefail

phases="$(cd "$(dirname "$0")" && pwd)/phases"
usage="usage: IMAGE=<registry>/house-price:<git-sha> RELEASE=<short git sha> $0 <phase>; phases, in order: $(cd "$phases" && echo *)"
if [[ $# -ne 1 || ! -f "$phases/${1:-}/kustomization.yaml" ]]; then
  echo "$usage" >&2
  exit 2
fi
if [[ ! "${IMAGE:-}" =~ ^[^[:space:]]+$ ]]; then
  echo "IMAGE must name the predictor image, e.g. <account>.dkr.ecr.<region>.amazonaws.com/house-price:<git-sha>; $usage" >&2
  exit 2
fi
# A DNS label part, short enough for house-price-v<N>-$RELEASE to stay within 63 characters.
if [[ ! "${RELEASE:-}" =~ ^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$ ]]; then
  echo "RELEASE must be lowercase letters, digits and '-', at most 40, e.g. the image's short git sha; $usage" >&2
  exit 2
fi
for tool in kubectl envsubst; do
  command -v "$tool" >/dev/null || { echo "$tool is not on PATH" >&2; exit 2; }
done
# shellcheck disable=SC2016  # the literal '${IMAGE} ${RELEASE}' tells envsubst what to replace
kubectl kustomize "$phases/$1" | envsubst '${IMAGE} ${RELEASE}'
