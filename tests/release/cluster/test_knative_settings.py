"""What Knative needs on EKS with Karpenter, as the install applies it: a revision waiting for a
node is not failed, image tags of our registry are not resolved (so no node or role is needed
for it), and Knative, Kourier, cert-manager and Prometheus stay on the system nodes."""

import re

import pytest
import yaml

from tests.release.cluster.conftest import ACCOUNT, REGION, in_order
from tests.release.files import circleci_config
from tests.release.manifests.knative_manifests import (
    CLUSTER,
    config_map_data,
    reference_defaults,
    rendered,
)

PINNED = {
    "install-knative.sh": ["knative-serving", "kourier-system"],
    "install-tls.sh": ["cert-manager"],
}


def applied_config_map(tools, name: str) -> dict[str, str]:
    (data, *_) = [d["data"] for d in tools.applied() if d["metadata"]["name"] == name]
    return data


def test_a_revision_waiting_for_a_node_is_not_failed(tools):
    # Knative's default is "false": an Unschedulable pod fails the revision at once.
    assert reference_defaults("config-deployment")["pod-is-always-schedulable"] == "false"
    result, _ = tools.add_all().run("install-knative.sh")
    assert result.returncode == 0, result.stderr
    assert applied_config_map(tools, "config-deployment")["pod-is-always-schedulable"] == "true"


def test_knative_skips_tag_resolution_for_the_registry_ci_pushes_to(tools):
    result, _ = tools.add_all().run("install-knative.sh")
    assert result.returncode == 0, result.stderr
    skipped = applied_config_map(tools, "config-deployment")["registries-skipping-tag-resolving"]
    # Knative reads a comma-separated set and compares the image's registry host exactly
    # (pkg/reconciler/revision/resolve.go: registriesToSkip.Has(tag.Registry.RegistryStr())).
    assert set(skipped.split(",")) == {f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"}
    deploy = next(
        step["run"]["command"]
        for step in circleci_config()["jobs"]["deploy-candidate"]["steps"]
        if isinstance(step, dict) and "run" in step and "--image" in step["run"]["command"]
    )
    (image,) = re.findall(r'--image "([^"]+)"', deploy)
    image = image.replace("${AWS_ACCOUNT_ID}", ACCOUNT).replace("${AWS_DEFAULT_REGION}", REGION)
    registry, tag = image.split("/", 1)[0], image.rsplit(":", 1)[1]
    assert registry in skipped.split(",")
    assert tag == "${CIRCLE_SHA1}"  # one tag per commit: what makes skipping resolution safe


def test_the_registry_is_filled_in_as_the_walkthrough_does():
    data = yaml.safe_load(
        rendered("config-deployment.yaml", AWS_ACCOUNT_ID=ACCOUNT, AWS_DEFAULT_REGION=REGION)
    )["data"]
    assert data["registries-skipping-tag-resolving"] == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
    assert set(config_map_data("config-deployment")) == {
        "pod-is-always-schedulable",
        "registries-skipping-tag-resolving",
    }


def system_labels() -> dict[str, str]:
    config = yaml.safe_load(rendered("eks-cluster.yaml", AWS_ACCOUNT_ID=ACCOUNT))
    (group,) = config["managedNodeGroups"]
    return group["labels"]


def system_node_selector() -> dict[str, str]:
    patch = yaml.safe_load((CLUSTER / "system-nodes.yaml").read_text())
    return patch["spec"]["template"]["spec"]["nodeSelector"]


def test_the_pin_selects_the_system_nodes_and_no_karpenter_node():
    selector = system_node_selector()
    assert selector and selector.items() <= system_labels().items()
    pool = next(
        d
        for d in yaml.safe_load_all((CLUSTER / "karpenter.yaml").read_text())
        if d["kind"] == "NodePool"
    )
    karpenter_labels = pool["spec"]["template"].get("metadata", {}).get("labels", {})
    assert not selector.items() <= karpenter_labels.items()
    requirement_keys = {r["key"] for r in pool["spec"]["template"]["spec"]["requirements"]}
    assert not set(selector) & requirement_keys


@pytest.mark.parametrize("script", sorted(PINNED))
def test_every_deployment_of_the_system_namespaces_is_pinned_and_waited_for(tools, script):
    # kubectl get deployments --namespace <namespace> --output name: two Deployments there.
    listing = (
        'if [[ "$1 $2" == "get deployments" ]]; then '
        'echo "deployment.apps/a-$4"; echo "deployment.apps/b-$4"; fi'
    )
    domain = (
        'if [[ "$*" == *"get configmap config-domain"* ]]; then echo \'{"ml.example.com":""}\'; fi'
    )
    tools.add_all(kubectl=f"{listing}\n{domain}")
    result, calls = tools.run(script, KNATIVE_DOMAIN="ml.example.com", HOSTED_ZONE_ID="Z1")
    assert result.returncode == 0, result.stderr
    for namespace in PINNED[script]:
        for name in (f"a-{namespace}", f"b-{namespace}"):
            patch = f"kubectl patch deployment.apps/{name} --namespace {namespace} --patch-file"
            assert any(
                call.startswith(patch) and call.endswith("system-nodes.yaml") for call in calls
            )
            assert in_order(calls, [patch, f"kubectl rollout status deployment.apps/{name}"])


def test_prometheus_runs_on_the_system_nodes_and_keeps_its_data_on_gp3():
    values = yaml.safe_load((CLUSTER / "prometheus-values.yaml").read_text())
    spec = values["prometheus"]["prometheusSpec"]
    selectors = [
        spec["nodeSelector"],
        values["prometheusOperator"]["nodeSelector"],
        values["prometheusOperator"]["admissionWebhooks"]["patch"]["nodeSelector"],
        values["grafana"]["nodeSelector"],
        values["kube-state-metrics"]["nodeSelector"],
    ]
    assert all(selector == system_node_selector() for selector in selectors)
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    storage_class = yaml.safe_load((CLUSTER / "storage-class.yaml").read_text())
    assert claim["storageClassName"] == storage_class["metadata"]["name"]
    assert claim["accessModes"] == ["ReadWriteOnce"]
    # The class is the EBS CSI driver's, the addon eksctl installs with its IAM role.
    assert storage_class["provisioner"] == "ebs.csi.aws.com"
    assert storage_class["parameters"]["type"] == "gp3"
    assert storage_class["volumeBindingMode"] == "WaitForFirstConsumer"  # EBS is zonal
    config = yaml.safe_load(rendered("eks-cluster.yaml", AWS_ACCOUNT_ID=ACCOUNT))
    addons = {addon["name"]: addon for addon in config["addons"]}
    assert addons["aws-ebs-csi-driver"]["useDefaultPodIdentityAssociations"] is True
    assert "eks-pod-identity-agent" in addons  # eksctl requires it for Pod Identity
    size = claim["resources"]["requests"]["storage"]
    retention = spec["retentionSize"]
    assert _gib(retention) < _gib(size), "Prometheus must stop filling the volume before it is full"


def _gib(quantity: str) -> float:
    return float(re.fullmatch(r"(\d+)(?:Gi|GB)", quantity)[1])  # Prometheus: GB is 2^30 B
