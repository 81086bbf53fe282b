#!/usr/bin/env bash
# Install Knative Serving with Kourier on the cluster of the current kubectl context, set its
# DNS, apply the config-*.yaml patches beside this script, Karpenter's node pool and CI's access
# (namespace, Role). Safe to run again: every step is a `kubectl apply` (or annotate) of the same
# files, and each waits until it is ready.
#   cluster/install-knative.sh                               # URLs under <LB IP>.sslip.io
#   KNATIVE_DOMAIN=ml.example.com cluster/install-knative.sh # URLs under your domain
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
preflight kubectl eksctl kn

echo "== Knative Serving ${KNATIVE_VERSION}: resource definitions"
kubectl apply -f "$SERVING_RELEASE/serving-crds.yaml"
kubectl wait crd -l knative.dev/crd-install=true --for=condition=Established "$WAIT"

echo "== Knative Serving: core components"
kubectl apply -f "$SERVING_RELEASE/serving-core.yaml"
kubectl wait deployment --all -n knative-serving --for=condition=Available "$WAIT"

echo "== Kourier, the ingress (an AWS load balancer in front of it)"
kubectl apply -f "$KOURIER_RELEASE/kourier.yaml"
kubectl wait deployment --all -n kourier-system --for=condition=Available "$WAIT"
# The load balancer drops a connection idle for 60 s by default, which would cut off a request
# waiting for a cold start; revisions allow 130 s (timeoutSeconds in knative/base/service.yaml).
kubectl annotate service kourier -n kourier-system --overwrite \
  "service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout=$LB_IDLE_TIMEOUT_SECONDS"

echo "== Cluster settings: config-network, config-autoscaler, config-features"
# Server-side apply owns only the keys in these files; Knative's own defaults stay untouched.
# Knative's config webhook judges all three first (--dry-run=server), so none is half applied.
settings=(-f "$CLUSTER_DIR/config-network.yaml" -f "$CLUSTER_DIR/config-autoscaler.yaml"
  -f "$CLUSTER_DIR/config-features.yaml")
apply_settings=(kubectl apply --server-side --force-conflicts --field-manager=house-price-install)
"${apply_settings[@]}" --dry-run=server "${settings[@]}" >/dev/null
"${apply_settings[@]}" "${settings[@]}"

echo "== DNS"
if [[ -n "${KNATIVE_DOMAIN:-}" ]]; then
  # Your domain replaces any earlier one; point *.house-price.$KNATIVE_DOMAIN at the load balancer.
  kubectl patch configmap config-domain -n knative-serving --type json \
    -p "[{\"op\": \"replace\", \"path\": \"/data\", \"value\": {\"$KNATIVE_DOMAIN\": \"\"}}]"
else
  # The job resolves the load balancer to an IP and sets <IP>.sslip.io; it is rerun every time
  # so that a second run picks up a changed address.
  kubectl delete job default-domain -n knative-serving --ignore-not-found
  kubectl apply -f "$SERVING_RELEASE/serving-default-domain.yaml"
  kubectl wait job/default-domain -n knative-serving --for=condition=Complete "$WAIT"
fi

echo "== Karpenter's node pool (Karpenter itself comes with the cluster: eks-cluster.yaml)"
if ! kubectl get crd nodepools.karpenter.sh >/dev/null 2>&1; then
  echo "Karpenter is not installed; eksctl installs it when it creates the cluster from" \
    "cluster/eks-cluster.yaml (karpenter:)" >&2
  exit 2
fi
kubectl apply -f "$CLUSTER_DIR/karpenter.yaml"

echo "== The predictor's namespace, and what CI's release jobs may do in it"
kubectl apply -f "$REPO_DIR/knative/base/namespace.yaml" -f "$CLUSTER_DIR/ci-rbac.yaml"

kubectl wait deployment --all -n knative-serving --for=condition=Available "$WAIT"
echo "== Knative Serving ${KNATIVE_VERSION} is ready; domain and load balancer:"
kubectl get configmap config-domain -n knative-serving -o jsonpath='{.data}{"\n"}'
kubectl get service kourier -n kourier-system
