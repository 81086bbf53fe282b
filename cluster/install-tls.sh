#!/usr/bin/env bash
# HTTPS on your domain, after `KNATIVE_DOMAIN=<domain> cluster/install-knative.sh`: cert-manager,
# Let's Encrypt by DNS-01 in your Route 53 zone, Knative's TLS settings (tls.yaml) and the DNS
# record that sends *.house-price.<domain> to Kourier's load balancer; waits for the namespace's
# wildcard certificate. Safe to run again: each step applies or upserts the same thing.
#   KNATIVE_DOMAIN=ml.example.com HOSTED_ZONE_ID=Z0123456789ABC AWS_DEFAULT_REGION=us-east-1 cluster/install-tls.sh
# Why cert-manager with Knative's certificate reconciler rather than an NLB with an ACM
# certificate: cluster/README.md, "HTTPS on your domain".
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
require_env KNATIVE_DOMAIN HOSTED_ZONE_ID AWS_DEFAULT_REGION
preflight kubectl aws
NAMESPACE=house-price

if [[ "$(kubectl get configmap config-domain -n knative-serving -o jsonpath='{.data}')" \
  != *"\"$KNATIVE_DOMAIN\""* ]]; then
  echo "Knative's domain is not $KNATIVE_DOMAIN; run KNATIVE_DOMAIN=$KNATIVE_DOMAIN" \
    "cluster/install-knative.sh first" >&2
  exit 2
fi

echo "== cert-manager ${CERT_MANAGER_VERSION}, on the system nodes"
kubectl apply -f "$CERT_MANAGER_RELEASE/cert-manager.yaml"
kubectl wait deployment --all -n cert-manager --for=condition=Available "$WAIT"
pin_to_system_nodes cert-manager

echo "== Let's Encrypt (DNS-01 in zone $HOSTED_ZONE_ID) and Knative's TLS settings"
tls() {
  # shellcheck disable=SC2016 # envsubst's list of the variables it may fill in
  envsubst '${AWS_DEFAULT_REGION} ${HOSTED_ZONE_ID}' <"$CLUSTER_DIR/tls.yaml"
}
# Its own field manager: install-knative.sh's server-side apply of config-network then neither
# removes these keys nor is removed by them.
apply_tls=(kubectl apply --server-side --force-conflicts --field-manager=house-price-tls)
tls | "${apply_tls[@]}" --dry-run=server -f - >/dev/null
tls | "${apply_tls[@]}" -f -
kubectl wait clusterissuer/letsencrypt --for=condition=Ready "$WAIT"
# Knative's controller starts its certificate reconciler only if TLS is on when it starts
# (cmd/controller/main.go, shouldEnableNetCertManagerController).
kubectl rollout restart deployment/controller -n knative-serving
kubectl rollout status deployment/controller -n knative-serving "$WAIT"

echo "== DNS: *.$NAMESPACE.$KNATIVE_DOMAIN to Kourier's load balancer"
balancer=$(kubectl get service kourier -n kourier-system \
  -o jsonpath='{.status.loadBalancer.ingress[0].hostname}')
# A CNAME to the load balancer's name, which stays when AWS changes its addresses.
record="{\"Name\": \"*.$NAMESPACE.$KNATIVE_DOMAIN\", \"Type\": \"CNAME\", \"TTL\": 300,"
record+=" \"ResourceRecords\": [{\"Value\": \"$balancer\"}]}"
change=$(aws route53 change-resource-record-sets --hosted-zone-id "$HOSTED_ZONE_ID" \
  --change-batch "{\"Changes\": [{\"Action\": \"UPSERT\", \"ResourceRecordSet\": $record}]}" \
  --query ChangeInfo.Id --output text)
aws route53 wait resource-record-sets-changed --id "$change"

echo "== The wildcard certificate *.$NAMESPACE.$KNATIVE_DOMAIN (DNS-01 takes a minute or two)"
certificate="certificates.networking.internal.knative.dev/$NAMESPACE.$KNATIVE_DOMAIN"
kubectl wait "$certificate" -n "$NAMESPACE" --for=create "$WAIT"
kubectl wait "$certificate" -n "$NAMESPACE" --for=condition=Ready --timeout=600s
echo "== HTTPS is ready: https://house-price.$NAMESPACE.$KNATIVE_DOMAIN and" \
  "https://<tag>-house-price.$NAMESPACE.$KNATIVE_DOMAIN"
