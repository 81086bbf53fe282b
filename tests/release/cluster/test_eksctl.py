"""cluster/eks-cluster.yaml has what eksctl needs; its nodes hold Knative and max-scale pods."""

import pytest
import yaml

from tests.release.manifests.knative_manifests import CLUSTER, PHASES, cluster_limits, phase_service

VCPUS = {"m6i.xlarge": 4}  # instance types used here, from AWS's instance type list
KNATIVE_AND_SYSTEM_VCPU = 2.5  # Knative, Kourier and kube-system requests, with room to spare
QUEUE_PROXY_VCPU = 0.025  # Knative's default CPU request for the queue-proxy sidecar


@pytest.fixture(scope="module")
def config():
    return yaml.safe_load((CLUSTER / "eks-cluster.yaml").read_text())


def test_kubernetes_is_one_knative_1_23_supports(config):
    version = config["metadata"]["version"]
    assert isinstance(version, str), "quote the version: YAML would read 1.40 as 1.4"
    assert tuple(map(int, version.split("."))) >= (1, 34)


def test_oidc_is_on(config):
    assert config["iam"]["withOIDC"] is True


def test_only_managed_node_groups_with_their_sizes(config):
    assert "nodeGroups" not in config
    assert config["managedNodeGroups"]
    for group in config["managedNodeGroups"]:
        assert group["name"] and group["instanceType"] in VCPUS
        assert group["amiFamily"] == "AmazonLinux2023"  # EKS has no AL2 images past 1.32
        assert 1 <= group["minSize"] <= group["desiredCapacity"] <= group["maxSize"]


def pod_vcpu():
    """CPU one predictor pod requests: the app container plus Knative's queue-proxy."""
    cpu = str(
        phase_service(PHASES[0])["spec"]["template"]["spec"]["containers"][0]["resources"][
            "requests"
        ]["cpu"]
    )
    return (float(cpu[:-1]) / 1000 if cpu.endswith("m") else float(cpu)) + QUEUE_PROXY_VCPU


def node_vcpus(config, size_field):
    return sum(VCPUS[g["instanceType"]] * g[size_field] for g in config["managedNodeGroups"])


def test_the_nodes_hold_every_pod_max_scale_allows(config):
    annotations = phase_service(PHASES[0])["spec"]["template"]["metadata"]["annotations"]
    max_scale = int(annotations["autoscaling.knative.dev/max-scale"])
    free = node_vcpus(config, "desiredCapacity") - KNATIVE_AND_SYSTEM_VCPU
    assert max_scale * pod_vcpu() <= free


def test_the_cluster_limit_fits_the_node_group_at_its_largest(config):
    free = node_vcpus(config, "maxSize") - KNATIVE_AND_SYSTEM_VCPU
    assert 0 < cluster_limits().max_scale_limit * pod_vcpu() <= free
