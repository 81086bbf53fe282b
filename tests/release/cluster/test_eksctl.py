"""cluster/eks-cluster.yaml, rendered as the walk-through renders it, has what eksctl needs; the
system nodes hold what is pinned to them, Karpenter's node pool holds every pod the cluster
limit allows, and cluster/README.md's "Cluster size" states the numbers these files give."""

import math
import re

import pytest
import yaml

from tests.release.manifests.knative_manifests import (
    CLUSTER,
    PHASES,
    cluster_limits,
    phase_service,
    rendered,
)

ACCOUNT = "123456789012"
VCPUS = {"m6i.xlarge": 4}  # instance types used here, from AWS's instance type list
# What is pinned to the system nodes (Knative 0.6 vCPU of requests in its release, Kourier,
# cert-manager, Prometheus 0.25 and its chart's other parts, Karpenter's controller) and
# kube-system: a budget, as cluster/README.md states it.
SYSTEM_BUDGET_VCPU = 3.5
NODE_OVERHEAD_VCPU = 0.3  # the EKS AMI's kubelet reserve and the daemons on every node
QUEUE_PROXY_VCPU = 0.025  # Knative's default CPU request for the queue-proxy sidecar
KNATIVE_MINIMUM = (1, 34)  # knative.dev/pkg's minimum Kubernetes for Knative Serving 1.23


@pytest.fixture(scope="module")
def config():
    return yaml.safe_load(rendered("eks-cluster.yaml", AWS_ACCOUNT_ID=ACCOUNT))


@pytest.fixture(scope="module")
def node_pool():
    documents = yaml.safe_load_all((CLUSTER / "karpenter.yaml").read_text())
    return {document["kind"]: document for document in documents}


def test_kubernetes_is_current_and_one_knative_supports(config):
    version = config["metadata"]["version"]
    assert isinstance(version, str), "quote the version: YAML would read 1.40 as 1.4"
    assert tuple(map(int, version.split("."))) >= max((1, 35), KNATIVE_MINIMUM)


def test_oidc_is_on_for_karpenters_controller(config):
    assert config["iam"]["withOIDC"] is True
    assert re.fullmatch(r"\d+\.\d+\.\d+", config["karpenter"]["version"]), "pin Karpenter exactly"


def test_ci_gets_in_through_an_access_entry_with_no_access_policy(config):
    assert config["accessConfig"]["authenticationMode"] in ("API", "API_AND_CONFIG_MAP")
    (entry,) = config["accessConfig"]["accessEntries"]
    assert entry["principalARN"] == f"arn:aws:iam::{ACCOUNT}:role/house-price-circleci"
    assert entry["kubernetesGroups"] == ["house-price-release"]
    assert "accessPolicies" not in entry  # so RBAC (cluster/ci-rbac.yaml) is all CI may do


def test_only_managed_node_groups_with_their_sizes(config):
    assert "nodeGroups" not in config
    assert config["managedNodeGroups"]
    for group in config["managedNodeGroups"]:
        assert group["name"] and group["instanceType"] in VCPUS
        assert group["amiFamily"] == "AmazonLinux2023"  # EKS has no AL2 images past 1.32
        assert 1 <= group["minSize"] <= group["desiredCapacity"] <= group["maxSize"]


def system_room_vcpu(config) -> float:
    """vCPU the system nodes have for pods, less each node's own reserve."""
    (group,) = config["managedNodeGroups"]
    return (VCPUS[group["instanceType"]] - NODE_OVERHEAD_VCPU) * group["minSize"]


def test_the_system_nodes_hold_their_budget(config):
    assert system_room_vcpu(config) >= SYSTEM_BUDGET_VCPU


def pod_vcpu():
    """CPU one predictor pod requests: the app container plus Knative's queue-proxy."""
    cpu = str(
        phase_service(PHASES[0])["spec"]["template"]["spec"]["containers"][0]["resources"][
            "requests"
        ]["cpu"]
    )
    return (float(cpu[:-1]) / 1000 if cpu.endswith("m") else float(cpu)) + QUEUE_PROXY_VCPU


def requirement(node_pool, key):
    requirements = node_pool["NodePool"]["spec"]["template"]["spec"]["requirements"]
    (found,) = [r for r in requirements if r["key"] == key]
    return found


def node_sizes(node_pool) -> list[int]:
    return sorted(map(int, requirement(node_pool, "karpenter.k8s.aws/instance-cpu")["values"]))


def pods_per_node(size: int) -> int:
    return math.floor((size - NODE_OVERHEAD_VCPU) / pod_vcpu())


def pool_pods(node_pool, size: int) -> int:
    """Predictor pods the pool holds on nodes of one size, within its CPU limit."""
    limit = float(node_pool["NodePool"]["spec"]["limits"]["cpu"])
    return math.floor(limit / size) * pods_per_node(size)


def test_karpenters_pool_holds_every_pod_the_cluster_limit_allows(node_pool):
    """Whatever node size Karpenter picks, max-scale-limit pods fit within the pool's limit."""
    for size in node_sizes(node_pool):
        assert pods_per_node(size) >= 1, f"a {size}-vCPU node holds no predictor pod"
        assert pool_pods(node_pool, size) >= cluster_limits().max_scale_limit, size


def test_the_readme_states_the_sizes_the_files_give(node_pool, config):
    """The one place the numbers are written, kept true: each row recomputed from the files."""
    readme = " ".join((CLUSTER / "README.md").read_text().split())  # lines joined
    limit = node_pool["NodePool"]["spec"]["limits"]["cpu"]
    for size in node_sizes(node_pool):
        assert (
            f"| a Karpenter node of {size} vCPU | {size} | {pods_per_node(size)} predictor pods |"
            in readme
        )
    small, large = node_sizes(node_pool)
    assert (
        f"| {limit} | {pool_pods(node_pool, small)} predictor pods on {small}-vCPU nodes, "
        f"{pool_pods(node_pool, large)} on {large}-vCPU nodes |"
    ) in readme
    (group,) = config["managedNodeGroups"]
    room = math.floor((system_room_vcpu(config) - SYSTEM_BUDGET_VCPU) / pod_vcpu())
    system = f"| the system nodes ({group['minSize']} × {group['instanceType']}) | "
    system += f"{VCPUS[group['instanceType']] * group['minSize']} | "
    assert (
        system in readme
        and f"(a budget of {SYSTEM_BUDGET_VCPU} vCPU), and {room} predictor pods |" in readme
    )
    assert (
        f"`max-scale-limit` {cluster_limits().max_scale_limit} (`config-autoscaler.yaml`)" in readme
    )
    max_scale = phase_service(PHASES[0])["spec"]["template"]["metadata"]["annotations"][
        "autoscaling.knative.dev/max-scale"
    ]
    both = 2 * int(max_scale)
    held = [pool_pods(node_pool, size) + room for size in (small, large)]
    assert f"A revision's `max-scale` is {max_scale}" in readme
    assert (
        f"up to {both} pods; the pool and the room on the system nodes hold {held[0]} to {held[1]}."
        in readme
    )


def test_karpenters_nodes_are_the_clusters_own(node_pool, config):
    node_class = node_pool["EC2NodeClass"]["spec"]
    cluster = config["metadata"]["name"]
    assert (
        node_pool["NodePool"]["spec"]["template"]["spec"]["nodeClassRef"]["name"]
        == (node_pool["EC2NodeClass"]["metadata"]["name"])
    )
    assert node_class["role"] == f"eksctl-KarpenterNodeRole-{cluster}"  # the role eksctl makes
    discovery = {"karpenter.sh/discovery": config["metadata"]["tags"]["karpenter.sh/discovery"]}
    assert discovery == {"karpenter.sh/discovery": cluster}
    for terms in ("subnetSelectorTerms", "securityGroupSelectorTerms"):
        assert all(discovery.items() <= term["tags"].items() for term in node_class[terms])
    (ami,) = node_class["amiSelectorTerms"]
    assert re.fullmatch(r"al2023@v\d{8}", ami["alias"]), "pin the node image, never @latest"
