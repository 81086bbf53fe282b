#!/usr/bin/env bash
# Install Prometheus (the pinned kube-prometheus-stack chart) into namespace monitoring, on the
# system nodes and on an EBS volume (prometheus-values.yaml), and have it scrape the predictor's
# pods directly: the app's own /metrics on the user container's port, which the rollout tool's
# live-traffic gate queries. Safe to run again: `helm upgrade --install`
# and `kubectl apply` of the same files, each waiting until it is ready.
#   cluster/install-prometheus.sh
#   kubectl port-forward -n monitoring svc/kube-prometheus-stack-prometheus 9090  # for the tool
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
preflight kubectl helm

echo "== The gp3 storage class for Prometheus's volume (the EBS CSI driver comes with the cluster)"
kubectl apply -f "$CLUSTER_DIR/storage-class.yaml"

echo "== Prometheus: kube-prometheus-stack ${PROMETHEUS_CHART_VERSION} in namespace monitoring"
helm repo add prometheus-community "$PROMETHEUS_CHARTS" --force-update
helm upgrade --install kube-prometheus-stack prometheus-community/kube-prometheus-stack \
  --version "$PROMETHEUS_CHART_VERSION" --namespace monitoring --create-namespace \
  --values "$CLUSTER_DIR/prometheus-values.yaml" --wait --timeout 10m

echo "== Scrape the predictor's pods (PodMonitor house-price); let CI port-forward to Prometheus"
kubectl apply -f "$CLUSTER_DIR/predictor-podmonitor.yaml" -f "$CLUSTER_DIR/ci-rbac-prometheus.yaml"
kubectl rollout status statefulset/prometheus-kube-prometheus-stack-prometheus \
  --namespace monitoring "$WAIT"
echo "== Prometheus is ready; the rollout tool reaches it through:"
echo "   kubectl port-forward -n monitoring svc/kube-prometheus-stack-prometheus 9090"
