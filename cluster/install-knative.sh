#!/usr/bin/env bash
# Install Knative Serving with Kourier on the cluster of the current kubectl context, set its
# DNS and apply the config-*.yaml patches beside this script. Safe to run again: every step is
# a `kubectl apply` or a server-side apply of the same files, and each waits until it is ready.
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

echo "== Cluster settings: config-network, config-autoscaler, config-features"
# Server-side apply owns only the keys in these files; Knative's own defaults stay untouched.
kubectl apply --server-side --force-conflicts --field-manager=house-price-install \
  -f "$CLUSTER_DIR/config-network.yaml" \
  -f "$CLUSTER_DIR/config-autoscaler.yaml" \
  -f "$CLUSTER_DIR/config-features.yaml"

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

kubectl wait deployment --all -n knative-serving --for=condition=Available "$WAIT"
echo "== Knative Serving ${KNATIVE_VERSION} is ready; domain and load balancer:"
kubectl get configmap config-domain -n knative-serving -o jsonpath='{.data}{"\n"}'
kubectl get service kourier -n kourier-system
