# shellcheck shell=bash disable=SC2034
# (SC2034: the variables below are used by the scripts that source this file.)
# Shared by the scripts beside it: the pinned releases and the checks run first.

# The cluster eks-cluster.yaml makes (metadata.name); eksctl names Karpenter's interruption queue
# after it.
CLUSTER_NAME="house-price"
# Knative Serving and its Kourier networking layer, released together; pinned, never "latest".
# 1.23.0 (2026-07-29) is the newest release: it needs Kubernetes 1.34 or newer (knative.dev/pkg's
# minimum) and is built on the Kubernetes 1.35 client libraries, so it supports our 1.35.
KNATIVE_VERSION="1.23.0"
RELEASE_TAG="knative-v${KNATIVE_VERSION}"
SERVING_RELEASE="https://github.com/knative/serving/releases/download/${RELEASE_TAG}"
KOURIER_RELEASE="https://github.com/knative-extensions/net-kourier/releases/download/${RELEASE_TAG}"
# Karpenter, as eks-cluster.yaml installs it (karpenter.version); configure-karpenter.sh upgrades
# the same chart in place.
KARPENTER_VERSION="1.14.1"
KARPENTER_CHART="oci://public.ecr.aws/karpenter/karpenter"
# cert-manager for HTTPS on your domain (install-tls.sh): the newest release (2026-07-29). Knative
# 1.23's own tests run 1.18.0 (its third_party/ directory), but Knative uses only cert-manager's
# stable cert-manager.io/v1 API, and 1.18 is out of cert-manager's support.
CERT_MANAGER_VERSION="1.21.1"
CERT_MANAGER_RELEASE="https://github.com/cert-manager/cert-manager/releases/download/v${CERT_MANAGER_VERSION}"
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

# require_env NAME...: stop before any change unless each variable is set (cluster/README.md).
require_env() {
  local name missing=()
  for name in "$@"; do
    [[ -n "${!name:-}" ]] || missing+=("$name")
  done
  if ((${#missing[@]})); then
    echo "not set: ${missing[*]}; cluster/README.md says what each is" >&2
    exit 2
  fi
}

# pin_to_system_nodes NAMESPACE...: every Deployment there runs on the eksctl node group only
# (system-nodes.yaml), never on a node Karpenter may drain; waits until each has moved. A later
# `kubectl apply` of the upstream release leaves the node selector alone: it is in no
# last-applied configuration, so a client-side apply neither sets nor removes it.
pin_to_system_nodes() {
  local namespace deployment deployments
  for namespace in "$@"; do
    deployments=$(kubectl get deployments --namespace "$namespace" --output name)
    for deployment in $deployments; do
      kubectl patch "$deployment" --namespace "$namespace" \
        --patch-file "$CLUSTER_DIR/system-nodes.yaml"
      kubectl rollout status "$deployment" --namespace "$namespace" "$WAIT"
    done
  done
}
