# shellcheck shell=bash disable=SC2034
# (SC2034: the variables below are used by the scripts that source this file.)
# Shared by the scripts beside it: the pinned releases and the checks run first.

# Knative Serving and its Kourier networking layer, released together; pinned, never "latest".
# 1.23.0 (2026-07-29) is the newest release: it needs Kubernetes 1.34 or newer (knative.dev/pkg's
# minimum) and is built on the Kubernetes 1.35 client libraries, so it supports our 1.35.
KNATIVE_VERSION="1.23.0"
RELEASE_TAG="knative-v${KNATIVE_VERSION}"
SERVING_RELEASE="https://github.com/knative/serving/releases/download/${RELEASE_TAG}"
KOURIER_RELEASE="https://github.com/knative-extensions/net-kourier/releases/download/${RELEASE_TAG}"
# Prometheus for the rollout tool's live-traffic gate: the prometheus-community chart, pinned.
PROMETHEUS_CHART_VERSION="88.5.3"
PROMETHEUS_CHARTS="https://prometheus-community.github.io/helm-charts"
CLUSTER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "$CLUSTER_DIR")"
WAIT="--timeout=300s"
# Longer than a revision's timeoutSeconds (knative/base/service.yaml), so a cold start fits.
LB_IDLE_TIMEOUT_SECONDS=180

# Stop before changing anything when a tool of the walk-through is missing or no cluster answers.
# preflight TOOL...: the tools this script needs.
preflight() {
  local tool missing=()
  for tool in "$@"; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  if ((${#missing[@]})); then
    echo "not on PATH: ${missing[*]}; install them first (cluster/README.md)" >&2
    exit 2
  fi
  if ! kubectl cluster-info >/dev/null 2>&1; then
    echo "kubectl reaches no cluster; the EKS cluster comes from:" \
      "envsubst '\${AWS_ACCOUNT_ID}' < cluster/eks-cluster.yaml | eksctl create cluster -f -" >&2
    exit 2
  fi
  echo "== Working on the cluster of kubectl context $(kubectl config current-context)"
}
