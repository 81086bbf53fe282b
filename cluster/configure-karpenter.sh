#!/usr/bin/env bash
# Finish what eksctl 0.230 leaves out when it installs Karpenter 1.14.1 with the cluster
# (karpenter: in eks-cluster.yaml). Run it once after `eksctl create cluster`; safe to run again
# (helm upgrade --reuse-values and put-role-policy set the same values again).
#   cluster/configure-karpenter.sh
# 1. The interruption queue. eksctl makes the SQS queue, named after the cluster, and its
#    EventBridge rules (pkg/cfn/builder/karpenter.go), but hands its name to the chart as
#    settings.interruptionQueueName (pkg/karpenter/karpenter.go), a key the chart no longer
#    reads: chart 1.14.1 reads settings.interruptionQueue (charts/karpenter/values.yaml) and
#    without it sets no INTERRUPTION_QUEUE, so Karpenter never drains a node ahead of a
#    scheduled EC2 maintenance or an instance going away (eksctl#8844, merged after 0.230).
# 2. Two reads missing from the controller's IAM policy: ec2:DescribeInstanceStatus (1.14's
#    instance health checks, pkg/controllers/interruption/instancestatus_controller.go, which
#    otherwise log "permission is not allowed" and stay off) and ec2:DescribePlacementGroups;
#    both are in Karpenter's own policy (its getting-started cloudformation.yaml,
#    AllowRegionalReadActions) and not in eksctl's (karpenter-controller-policy.json here).
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
preflight kubectl helm aws

echo "== Karpenter's controller role: the reads it lacks"
# eksctl names the role with a random suffix; the controller's service account carries its ARN.
role_arn=$(kubectl get serviceaccount karpenter --namespace karpenter \
  --output jsonpath='{.metadata.annotations.eks\.amazonaws\.com/role-arn}')
if [[ -z "$role_arn" ]]; then
  echo "Karpenter's service account has no IAM role; eksctl makes both when it creates the" \
    "cluster from cluster/eks-cluster.yaml (karpenter:)" >&2
  exit 2
fi
aws iam put-role-policy --role-name "${role_arn##*/}" --policy-name karpenter-reads \
  --policy-document "file://$CLUSTER_DIR/karpenter-controller-policy.json"

echo "== Karpenter ${KARPENTER_VERSION}: the interruption queue ${CLUSTER_NAME}"
# The same release and chart eksctl installed, its values kept; the new setting restarts the
# controller, which so also picks up the new permissions.
helm upgrade karpenter "$KARPENTER_CHART" --version "$KARPENTER_VERSION" --namespace karpenter \
  --reuse-values --set "settings.interruptionQueue=${CLUSTER_NAME}" --wait --timeout 5m
kubectl rollout status deployment/karpenter --namespace karpenter "$WAIT"
