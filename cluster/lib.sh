# shellcheck shell=bash disable=SC2034
# (SC2034: the variables below are used by the scripts that source this file.)
# Shared by install-knative.sh and teardown.sh: the pinned releases and the checks run first.

# Knative Serving and its Kourier networking layer, released together; pinned, never "latest".
KNATIVE_VERSION="1.23.0"
RELEASE_TAG="knative-v${KNATIVE_VERSION}"
SERVING_RELEASE="https://github.com/knative/serving/releases/download/${RELEASE_TAG}"
KOURIER_RELEASE="https://github.com/knative-extensions/net-kourier/releases/download/${RELEASE_TAG}"
CLUSTER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WAIT="--timeout=300s"

# Stop before changing anything when a tool of the walk-through is missing or no cluster answers.
preflight() {
  local tool missing=()
  for tool in kubectl eksctl kn; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  if ((${#missing[@]})); then
    echo "not on PATH: ${missing[*]}; install them first (cluster/README.md)" >&2
    exit 2
  fi
  if ! kubectl cluster-info >/dev/null 2>&1; then
    echo "kubectl reaches no cluster; the EKS cluster comes from:" \
      "eksctl create cluster -f cluster/eks-cluster.yaml" >&2
    exit 2
  fi
  echo "== Working on the cluster of kubectl context $(kubectl config current-context)"
}
