#!/usr/bin/env bash
# Undo install-knative.sh, install-prometheus.sh, install-tls.sh and the deploys: delete the
# predictor, Prometheus (and its EBS volume, with the namespace), Karpenter's node pool (which
# terminates the nodes Karpenter launched), Kourier (which releases the AWS load balancer),
# cert-manager and Knative Serving. Safe to run again: what is gone already is skipped. The
# Prometheus chart's CRDs (monitoring.coreos.com) stay, as Helm leaves them; so does the DNS
# record install-tls.sh made (cluster/README.md says how to delete it). The cluster itself goes
# after this: envsubst '${AWS_ACCOUNT_ID}' < cluster/eks-cluster.yaml | eksctl delete cluster -f - --wait
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
preflight kubectl eksctl kn

echo "== The predictor (namespace house-price) and CI's access to it"
kubectl delete namespace house-price --ignore-not-found --wait
echo "== Prometheus (namespace monitoring), if cluster/install-prometheus.sh installed it"
if command -v helm >/dev/null && helm status kube-prometheus-stack -n monitoring >/dev/null 2>&1; then
  helm uninstall kube-prometheus-stack --namespace monitoring --wait
fi
kubectl delete namespace monitoring --ignore-not-found --wait
echo "== Karpenter's node pool and its nodes (eksctl does not know them)"
kubectl delete -f "$CLUSTER_DIR/karpenter.yaml" --ignore-not-found --wait
echo "== Kourier and its load balancer"
kubectl delete -f "$KOURIER_RELEASE/kourier.yaml" --ignore-not-found --wait
echo "== cert-manager and its issuer, if cluster/install-tls.sh installed them"
kubectl delete -f "$CERT_MANAGER_RELEASE/cert-manager.yaml" --ignore-not-found --wait
echo "== Knative Serving ${KNATIVE_VERSION}"
kubectl delete -f "$SERVING_RELEASE/serving-default-domain.yaml" --ignore-not-found
kubectl delete -f "$SERVING_RELEASE/serving-core.yaml" --ignore-not-found --wait
kubectl delete -f "$SERVING_RELEASE/serving-crds.yaml" --ignore-not-found
echo "== Done; delete the cluster with:" \
  "envsubst '\${AWS_ACCOUNT_ID}' < $CLUSTER_DIR/eks-cluster.yaml | eksctl delete cluster -f - --wait"
