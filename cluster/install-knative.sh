#!/usr/bin/env bash
# Install Knative Serving with Kourier on the cluster of the current kubectl context, keep them on
# the system nodes, set its DNS, apply the config-*.yaml patches beside this script, Karpenter's
# node pool and CI's access (namespace, Role). Safe to run again: every step is a `kubectl apply`
# (or patch, annotate) of the same files, and each waits until it is ready.
#   KNATIVE_DOMAIN=ml.example.com cluster/install-knative.sh  # URLs under your domain (HTTPS: install-tls.sh)
#   cluster/install-knative.sh                                # try it without a domain: <LB IP>.sslip.io, HTTP only
# AWS_ACCOUNT_ID and AWS_DEFAULT_REGION name the ECR registry whose tags Knative need not resolve
# (config-deployment.yaml).
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
require_env AWS_ACCOUNT_ID AWS_DEFAULT_REGION
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

echo "== Knative and Kourier on the system nodes, where Karpenter never drains them"
pin_to_system_nodes knative-serving kourier-system

echo "== Cluster settings: the config-*.yaml patches"
# Server-side apply owns only the keys in these files; Knative's own defaults stay untouched.
# Knative's config webhook judges them all first (--dry-run=server), so none is half applied.
# envsubst fills in our ECR registry (config-deployment.yaml) and nothing else.
settings() {
  local patch
  for patch in "$CLUSTER_DIR"/config-*.yaml; do
    echo "---"
    # shellcheck disable=SC2016 # envsubst's list of the variables it may fill in
    envsubst '${AWS_ACCOUNT_ID} ${AWS_DEFAULT_REGION}' <"$patch"
  done
}
apply_settings=(kubectl apply --server-side --force-conflicts --field-manager=house-price-install)
settings | "${apply_settings[@]}" --dry-run=server -f - >/dev/null
settings | "${apply_settings[@]}" -f -

echo "== DNS"
if [[ -n "${KNATIVE_DOMAIN:-}" ]]; then
  # Your domain replaces any earlier one; cluster/install-tls.sh points *.house-price.$KNATIVE_DOMAIN
  # at the load balancer and serves it over HTTPS.
  kubectl patch configmap config-domain -n knative-serving --type json \
    -p "[{\"op\": \"replace\", \"path\": \"/data\", \"value\": {\"$KNATIVE_DOMAIN\": \"\"}}]"
else
  # Try it without a domain: the job resolves the load balancer's host name to one IP and sets
  # <IP>.sslip.io, but only while config-domain holds no domain: once one is set it leaves it
  # alone (cmd/default-domain/main.go), so running it again does not follow a changed address.
  # cluster/README.md ("Try it without a domain") says how to move to a new one.
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
