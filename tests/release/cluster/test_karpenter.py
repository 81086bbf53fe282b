"""Karpenter wired as its own chart and policy expect, not as eksctl 0.230 leaves it: the chart
reads the interruption queue eksctl makes, and the controller may make the reads 1.14 needs."""

import json
import re

import pytest
import yaml

from tests.release.cluster.conftest import ACCOUNT, in_order, position
from tests.release.manifests.knative_manifests import CLUSTER, rendered

ROLE = "eksctl-house-price-addon-iamserviceaccount-Role1-AbC123"
SERVICE_ACCOUNT = (
    'if [[ "$*" == *"get serviceaccount karpenter"* ]]; then '
    f'echo "arn:aws:iam::{ACCOUNT}:role/{ROLE}"; fi'
)


@pytest.fixture(scope="module")
def config():
    return yaml.safe_load(rendered("eks-cluster.yaml", AWS_ACCOUNT_ID=ACCOUNT))


def lib_value(name: str) -> str:
    (value,) = re.findall(rf'^{name}="([^"]+)"', (CLUSTER / "lib.sh").read_text(), re.M)
    return value


def test_the_queue_karpenter_reads_is_the_one_eksctl_makes(tools, config):
    # eksctl 0.230 makes the queue only with withSpotInterruptionQueue, and names it after the
    # cluster (pkg/cfn/builder/karpenter.go: QueueName: Metadata.Name).
    assert config["karpenter"]["withSpotInterruptionQueue"] is True
    result, calls = tools.add_all(kubectl=SERVICE_ACCOUNT).run("configure-karpenter.sh")
    assert result.returncode == 0, result.stderr
    upgrade = calls[position(calls, "helm upgrade karpenter")]
    # Chart 1.14.1 reads settings.interruptionQueue (charts/karpenter/values.yaml), not the
    # settings.interruptionQueueName eksctl 0.230 passes (pkg/karpenter/karpenter.go).
    assert f"--set settings.interruptionQueue={config['metadata']['name']} " in upgrade
    assert "interruptionQueueName" not in upgrade
    # The release eksctl installed (name, namespace, chart, version), its other values kept.
    assert upgrade.startswith("helm upgrade karpenter oci://public.ecr.aws/karpenter/karpenter ")
    assert f"--version {config['karpenter']['version']} " in upgrade
    assert "--namespace karpenter" in upgrade and "--reuse-values" in upgrade
    assert lib_value("CLUSTER_NAME") == config["metadata"]["name"]


def test_the_controller_role_gets_the_reads_karpenter_1_14_needs(tools):
    result, calls = tools.add_all(kubectl=SERVICE_ACCOUNT).run("configure-karpenter.sh")
    assert result.returncode == 0, result.stderr
    put = calls[position(calls, "aws iam put-role-policy")]
    assert f"--role-name {ROLE} " in put  # the role eksctl made, from the service account
    assert put.endswith(f"--policy-document file://{CLUSTER}/karpenter-controller-policy.json")
    # Granted before the chart's upgrade restarts the controller, which then has them.
    assert in_order(calls, ["aws iam put-role-policy", "helm upgrade", "rollout status"])
    policy = json.loads((CLUSTER / "karpenter-controller-policy.json").read_text())
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow" and statement["Resource"] == "*"
    # In Karpenter 1.14.1's own policy (AllowRegionalReadActions), not in eksctl 0.230's.
    assert set(statement["Action"]) == {"ec2:DescribeInstanceStatus", "ec2:DescribePlacementGroups"}


def test_without_karpenters_role_nothing_is_changed(tools):
    result, calls = tools.add_all().run("configure-karpenter.sh")
    assert result.returncode == 2
    assert "Karpenter's service account has no IAM role" in result.stderr
    assert not any(call.startswith(("aws", "helm")) for call in calls)


def test_karpenter_is_the_version_eksctl_installs(config):
    assert lib_value("KARPENTER_VERSION") == config["karpenter"]["version"]
