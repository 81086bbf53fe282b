"""HTTPS on a real domain (cluster/install-tls.sh, tls.yaml): one Let's Encrypt wildcard per
namespace by DNS-01 in Route 53, which covers the route and every tag URL Knative makes; its
own field manager; the controller restarted to start Knative's certificate reconciler; the DNS
record pointing at the load balancer."""

import json
import re
from fnmatch import fnmatchcase

import pytest
import yaml

from tests.release.cluster.conftest import ACCOUNT, REGION, in_order, position
from tests.release.manifests.knative_manifests import (
    CLUSTER,
    PHASES,
    phase_service,
    reference_defaults,
    rendered,
)

DOMAIN, ZONE, BALANCER = "ml.example.com", "Z0123456789ABC", "k8s-kourier-1234.elb.amazonaws.com"
KUBECTL = "\n".join(
    [
        'if [[ "$*" == *"get configmap config-domain"* ]]; then echo \'{"ml.example.com":""}\'; fi',
        f'if [[ "$*" == *"get service kourier"* ]]; then echo "{BALANCER}"; fi',
    ]
)
AWS = 'if [[ "$*" == *"change-resource-record-sets"* ]]; then echo /change/C42; fi'


@pytest.fixture
def installed(tools):
    tools.add_all(kubectl=KUBECTL, aws=AWS)
    result, calls = tools.run("install-tls.sh", KNATIVE_DOMAIN=DOMAIN, HOSTED_ZONE_ID=ZONE)
    assert result.returncode == 0, result.stderr
    return calls, tools.applied()


def documents() -> dict[str, dict]:
    text = rendered("tls.yaml", HOSTED_ZONE_ID=ZONE, AWS_DEFAULT_REGION=REGION)
    return {d["metadata"]["name"]: d for d in yaml.safe_load_all(text)}


def test_the_steps_run_in_order(installed):
    calls, _ = installed
    (version,) = re.findall(r'CERT_MANAGER_VERSION="([^"]+)"', (CLUSTER / "lib.sh").read_text())
    assert in_order(
        calls,
        [
            f"cert-manager/releases/download/v{version}/cert-manager.yaml",
            "deployment --all -n cert-manager --for=condition=Available",
            "--field-manager=house-price-tls --dry-run=server -f -",
            "--field-manager=house-price-tls -f -",
            "clusterissuer/letsencrypt --for=condition=Ready",
            # Knative's controller starts its certificate reconciler only if TLS is on when it
            # starts (cmd/controller/main.go, shouldEnableNetCertManagerController).
            "rollout restart deployment/controller -n knative-serving",
            "route53 change-resource-record-sets",
            "route53 wait resource-record-sets-changed --id /change/C42",
            f"{DOMAIN} -n house-price --for=create",
            f"{DOMAIN} -n house-price --for=condition=Ready",
        ],
    )


def test_the_install_applies_tls_yaml_filled_in_dry_run_first(installed):
    _, applied = installed
    names = [d["metadata"]["name"] for d in documents().values()]
    assert [d["metadata"]["name"] for d in applied] == names + names
    assert applied[-len(names) :] == list(documents().values())


def test_its_settings_keep_the_installs_and_the_installs_keep_its():
    """Two field managers: a server-side apply by one never removes the keys of the other."""
    install = (CLUSTER / "install-knative.sh").read_text()
    tls = (CLUSTER / "install-tls.sh").read_text()
    (install_manager,) = re.findall(r"--field-manager=(\S+)\)", install)
    (tls_manager,) = re.findall(r"--field-manager=(\S+)\)", tls)
    assert install_manager != tls_manager
    ours = set(yaml.safe_load((CLUSTER / "config-network.yaml").read_text())["data"])
    assert not ours & set(documents()["config-network"]["data"])


def test_the_issuer_proves_a_wildcard_over_dns_in_the_zone():
    issuer = documents()["letsencrypt"]
    assert issuer["kind"] == "ClusterIssuer"  # ambient credentials are allowed for these only
    acme = issuer["spec"]["acme"]
    assert acme["server"] == "https://acme-v02.api.letsencrypt.org/directory"
    (solver,) = acme["solvers"]
    assert solver["dns01"]["route53"] == {"region": REGION, "hostedZoneID": ZONE}
    certmanager = documents()["config-certmanager"]["data"]
    assert set(certmanager) <= set(reference_defaults("config-certmanager"))
    assert yaml.safe_load(certmanager["issuerRef"]) == {
        "kind": "ClusterIssuer",
        "name": "letsencrypt",
    }


def test_cert_manager_may_write_only_txt_records_by_pod_identity():
    config = yaml.safe_load(rendered("eks-cluster.yaml", AWS_ACCOUNT_ID=ACCOUNT))
    (association,) = config["iam"]["podIdentityAssociations"]
    # The namespace and service account of cert-manager's release manifest.
    assert (association["namespace"], association["serviceAccountName"]) == (
        "cert-manager",
        "cert-manager",
    )
    statements = association["permissionPolicy"]["Statement"]
    actions = {
        a
        for s in statements
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert actions == {
        "route53:GetChange",
        "route53:ChangeResourceRecordSets",
        "route53:ListResourceRecordSets",
    }
    (change,) = [s for s in statements if "route53:ChangeResourceRecordSets" in s["Action"]]
    condition = change["Condition"]["ForAllValues:StringEquals"]
    assert condition == {"route53:ChangeResourceRecordSetsRecordTypes": ["TXT"]}
    assert any(addon["name"] == "eks-pod-identity-agent" for addon in config["addons"])


def hosts() -> list[str]:
    """The route's host and every tag's, as Knative 1.23 makes them with its default
    domain-template and tag-template (config-network; ours overrides neither)."""
    templates = reference_defaults("config-network")
    service = phase_service(PHASES[-1])
    name, namespace = service["metadata"]["name"], service["metadata"]["namespace"]
    tags = [
        t["tag"]
        for phase in PHASES
        for t in phase_service(phase)["spec"].get("traffic", [])
        if "tag" in t
    ]
    assert tags, "the phases tag their revisions"

    def host(route_name: str) -> str:
        return (
            templates["domain-template"]
            .replace("{{.Name}}", route_name)
            .replace("{{.Namespace}}", namespace)
            .replace("{{.Domain}}", DOMAIN)
        )

    tag_names = [
        templates["tag-template"].replace("{{.Tag}}", t).replace("{{.Name}}", name) for t in tags
    ]
    return [host(name)] + [host(tag_name) for tag_name in tag_names]


def test_one_wildcard_certificate_covers_the_route_and_every_tag():
    network = documents()["config-network"]["data"]
    assert set(network) <= set(reference_defaults("config-network"))
    assert network["external-domain-tls"] == "Enabled"
    assert network["http-protocol"] == "Redirected"
    namespace = phase_service(PHASES[0])["metadata"]["namespace"]
    selector = yaml.safe_load(network["namespace-wildcard-cert-selector"])
    assert selector == {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
    # Knative names the wildcard *.<namespace>.<domain> (pkg/reconciler/nscert); a wildcard
    # covers one label, and no host may have a dot in it (a tag like "a.b" would not be covered).
    wildcard = f"*.{namespace}.{DOMAIN}"
    for host in hosts():
        assert fnmatchcase(host, wildcard) and "." not in host[: -len(wildcard) + 1], host


def test_the_dns_record_sends_the_wildcard_to_the_load_balancer(installed):
    calls, _ = installed
    change = calls[position(calls, "route53 change-resource-record-sets")]
    assert f"--hosted-zone-id {ZONE} " in change
    batch = json.loads(change.split("--change-batch ", 1)[1].split(" --query", 1)[0])
    ((action, record),) = [(c["Action"], c["ResourceRecordSet"]) for c in batch["Changes"]]
    assert action == "UPSERT"  # safe to run again
    assert record["Name"] == f"*.house-price.{DOMAIN}" and record["Type"] == "CNAME"
    assert record["ResourceRecords"] == [{"Value": BALANCER}]
    # The certificate the script waits for is the one Knative names for that wildcard
    # (pkg/reconciler/nscert/resources/names: the DNS name without its first label).
    assert any(
        f"certificates.networking.internal.knative.dev/house-price.{DOMAIN}" in c for c in calls
    )


def test_another_domain_in_knative_stops_before_any_change(tools):
    tools.add_all(kubectl=KUBECTL, aws=AWS)
    result, calls = tools.run(
        "install-tls.sh", KNATIVE_DOMAIN="other.example.org", HOSTED_ZONE_ID=ZONE
    )
    assert result.returncode == 2
    assert "KNATIVE_DOMAIN=other.example.org cluster/install-knative.sh first" in result.stderr
    assert not any(call.startswith(("kubectl apply", "aws")) for call in calls)
