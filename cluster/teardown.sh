#!/usr/bin/env bash
# Undo install-knative.sh and the deploys: delete the predictor, Karpenter's node pool (which
# terminates the nodes Karpenter launched), Kourier (which releases the AWS load balancer) and
# Knative Serving. Safe to run again: what is gone already is skipped. The cluster itself goes
# after this: envsubst '${AWS_ACCOUNT_ID}' < cluster/eks-cluster.yaml | eksctl delete cluster -f - --wait
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
preflight

echo "== The predictor (namespace house-price) and CI's access to it"
kubectl delete namespace house-price --ignore-not-found --wait
echo "== Karpenter's node pool and its nodes (eksctl does not know them)"
kubectl delete -f "$CLUSTER_DIR/karpenter.yaml" --ignore-not-found --wait
echo "== Kourier and its load balancer"
kubectl delete -f "$KOURIER_RELEASE/kourier.yaml" --ignore-not-found --wait
echo "== Knative Serving ${KNATIVE_VERSION}"
kubectl delete -f "$SERVING_RELEASE/serving-default-domain.yaml" --ignore-not-found
kubectl delete -f "$SERVING_RELEASE/serving-core.yaml" --ignore-not-found --wait
kubectl delete -f "$SERVING_RELEASE/serving-crds.yaml" --ignore-not-found
echo "== Done; delete the cluster with:" \
  "envsubst '\${AWS_ACCOUNT_ID}' < $CLUSTER_DIR/eks-cluster.yaml | eksctl delete cluster -f - --wait"
