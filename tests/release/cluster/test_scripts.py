"""The cluster scripts install the release we validate against, stop at the first error, and
check their tools and settings before touching anything. The tools are stand-ins that record
their arguments (conftest.py): these tests check what the scripts ask for, never Kubernetes."""

import os
import re

import pytest
import yaml

from tests.release.cluster.conftest import in_order, position
from tests.release.manifests.knative_manifests import (
    CLUSTER,
    REPO,
    config_map_data,
    phase_service,
    reference_defaults,
    reference_file,
)

SCRIPTS = sorted(CLUSTER.glob("*.sh")) + [REPO / "knative" / "render.sh"]
EXECUTABLES = [s for s in SCRIPTS if s.name != "lib.sh"]
CONFIG_PATCHES = sorted(CLUSTER.glob("config-*.yaml"))


@pytest.mark.parametrize("script", EXECUTABLES, ids=lambda p: p.name)
def test_scripts_stop_at_the_first_error(script):
    lines = script.read_text().splitlines()
    assert lines[0] == "#!/usr/bin/env bash" and "set -euo pipefail" in lines
    assert os.access(script, os.X_OK)


def test_we_install_the_release_whose_schemas_we_validate_against():
    (pinned,) = re.findall(r'KNATIVE_VERSION="([^"]+)"', (CLUSTER / "lib.sh").read_text())
    assert f"tag knative-v{pinned} " in reference_file("README.md").read_text()
    assert "latest" not in (CLUSTER / "lib.sh").read_text().replace('never "latest"', "")


@pytest.mark.parametrize("patch", CONFIG_PATCHES, ids=lambda p: p.name)
def test_config_patches_are_knative_config_maps(patch):
    config_map = yaml.safe_load(patch.read_text())
    assert (config_map["kind"], config_map["metadata"]["name"]) == ("ConfigMap", patch.stem)
    assert config_map["metadata"]["namespace"] == "knative-serving"
    assert all(isinstance(value, str) for value in config_map["data"].values())


@pytest.mark.parametrize("name", ["config-autoscaler", "config-deployment", "config-network"])
def test_settings_are_keys_knative_knows(name):
    assert set(config_map_data(name)) <= set(reference_defaults(name))


def test_kourier_is_the_ingress():
    assert config_map_data("config-network") == {
        "ingress-class": "kourier.ingress.networking.knative.dev"
    }


@pytest.mark.parametrize(
    ("script", "missing"),
    [
        ("install-knative.sh", "eksctl kn"),
        ("teardown.sh", "eksctl kn"),
        ("install-prometheus.sh", "helm"),
        ("configure-karpenter.sh", "helm aws"),
        ("install-tls.sh", "aws"),
    ],
)
def test_missing_tools_stop_the_script_before_anything_runs(tools, script, missing):
    tools.add("kubectl")
    result, calls = tools.run(script, KNATIVE_DOMAIN="ml.example.com", HOSTED_ZONE_ID="Z1")
    assert result.returncode == 2
    assert f"not on PATH: {missing};" in result.stderr
    assert calls == []


@pytest.mark.parametrize(
    ("script", "unset"),
    [
        ("install-knative.sh", "AWS_ACCOUNT_ID"),
        ("install-knative.sh", "AWS_DEFAULT_REGION"),
        ("install-tls.sh", "KNATIVE_DOMAIN"),
        ("install-tls.sh", "HOSTED_ZONE_ID"),
    ],
)
def test_a_missing_setting_stops_the_script_before_anything_runs(tools, script, unset):
    tools.add_all()
    settings = {"KNATIVE_DOMAIN": "ml.example.com", "HOSTED_ZONE_ID": "Z1", unset: ""}
    result, calls = tools.run(script, **settings)
    assert result.returncode == 2
    assert f"not set: {unset};" in result.stderr
    assert calls == []


def test_no_cluster_stops_the_install_before_any_change(tools):
    result, calls = tools.add_all(kubectl="exit 1").run("install-knative.sh")
    assert result.returncode == 2
    assert "< cluster/eks-cluster.yaml | eksctl create cluster -f -" in result.stderr
    assert calls == ["kubectl cluster-info"]  # and nothing after it


def test_install_order_waits_for_each_layer(tools):
    result, calls = tools.add_all().run("install-knative.sh")
    assert result.returncode == 0, result.stderr
    assert in_order(
        calls,
        [
            "knative-v1.23.0/serving-crds.yaml",
            "condition=Established",
            "knative-v1.23.0/serving-core.yaml",
            "knative-v1.23.0/kourier.yaml",
            "aws-load-balancer-connection-idle-timeout",
            "get deployments --namespace knative-serving",
            "get deployments --namespace kourier-system",
            "--dry-run=server",
            "--field-manager=house-price-install -f -",
            "serving-default-domain.yaml",
            "job/default-domain",
            "crd nodepools.karpenter.sh",
            "karpenter.yaml",
            "ci-rbac.yaml",
        ],
    )
    settings = [call for call in calls if "--field-manager=house-price-install" in call]
    assert len(settings) == 2 and all("--server-side" in call for call in settings)
    assert "--dry-run=server" in settings[0] and "--dry-run" not in settings[1]
    assert "knative/base/namespace.yaml" in calls[position(calls, "ci-rbac.yaml")]


def test_the_install_applies_every_config_patch_dry_run_first(tools):
    result, _ = tools.add_all().run("install-knative.sh")
    assert result.returncode == 0, result.stderr
    applied = [(d["kind"], d["metadata"]["name"]) for d in tools.applied()]
    patches = [("ConfigMap", patch.stem) for patch in CONFIG_PATCHES]
    assert applied == patches + patches  # the server-side dry run, then the same for real
    assert not any("${" in value for d in tools.applied() for value in d["data"].values())


def test_no_karpenter_stops_the_install_with_a_message(tools):
    no_karpenter = 'if [[ "$*" == "get crd nodepools.karpenter.sh" ]]; then exit 1; fi'
    result, calls = tools.add_all(kubectl=no_karpenter).run("install-knative.sh")
    assert result.returncode == 2
    assert "Karpenter is not installed" in result.stderr
    assert not any("karpenter.yaml" in call or "ci-rbac.yaml" in call for call in calls)


def test_a_real_domain_replaces_sslip_io(tools):
    result, calls = tools.add_all().run("install-knative.sh", KNATIVE_DOMAIN="ml.example.com")
    assert result.returncode == 0, result.stderr
    assert '"ml.example.com": ""' in calls[position(calls, "config-domain")]
    assert not any("default-domain" in call for call in calls)


def test_without_a_domain_the_job_alone_sets_one(tools):
    """The default-domain job sets <IP>.sslip.io only where no domain is set (Knative 1.23's
    cmd/default-domain/main.go returns early otherwise): the script never touches config-domain
    on this path, so a second run keeps the first address, as its comment and the README say."""
    result, calls = tools.add_all().run("install-knative.sh")
    assert result.returncode == 0, result.stderr
    assert not any(call.startswith("kubectl patch configmap config-domain") for call in calls)
    script = (CLUSTER / "install-knative.sh").read_text()
    assert "does not follow a changed address" in script
    readme = (CLUSTER / "README.md").read_text()
    assert '"path": "/data", "value": {}' in readme  # how to move to a new address


TEARDOWN_ORDER = [
    "namespace house-price",
    "namespace monitoring",
    "karpenter.yaml",  # the node pool: Karpenter terminates its nodes, which eksctl cannot see
    "kourier.yaml",  # its Service of type LoadBalancer owns the AWS load balancer
    "cert-manager.yaml",
    "serving-default-domain.yaml",
    "serving-core.yaml",
    "serving-crds.yaml",
]


def test_teardown_deletes_what_the_install_made_from_the_top_down(tools):
    result, calls = tools.add_all().run("teardown.sh")
    assert result.returncode == 0, result.stderr
    deletes = [call for call in calls if call.startswith("kubectl delete ")]
    assert all("--ignore-not-found" in call for call in deletes)
    assert [position(deletes, step) for step in TEARDOWN_ORDER] == list(range(len(TEARDOWN_ORDER)))
    assert not any(call.startswith("eksctl") for call in calls)


def test_prometheus_is_the_pinned_chart_installed_idempotently_then_scrapes_the_predictor(tools):
    result, calls = tools.add_all().run("install-prometheus.sh")
    assert result.returncode == 0, result.stderr
    (pinned,) = re.findall(r'PROMETHEUS_CHART_VERSION="([^"]+)"', (CLUSTER / "lib.sh").read_text())
    install = calls[position(calls, "helm upgrade --install")]
    assert "prometheus-community/kube-prometheus-stack" in install
    assert f"--version {pinned}" in install and "--namespace monitoring" in install
    assert "prometheus-values.yaml" in install and "--wait" in install
    assert in_order(
        calls,
        [
            "storage-class.yaml",
            "helm repo add",
            "helm upgrade --install",
            "predictor-podmonitor.yaml",
            "rollout status",
        ],
    )


def test_teardown_uninstalls_prometheus_only_where_helm_knows_it(tools):
    tools.add_all(helm="exit 1")  # helm status: no such release
    result, calls = tools.run("teardown.sh")
    assert result.returncode == 0, result.stderr
    assert not any(call.startswith("helm uninstall") for call in calls)
    assert any(call.startswith("kubectl delete namespace monitoring") for call in calls)


def test_the_pod_monitor_selects_the_predictors_pods_on_the_apps_own_port():
    monitor = yaml.safe_load((CLUSTER / "predictor-podmonitor.yaml").read_text())
    service = phase_service("1-blue")
    namespace, name = service["metadata"]["namespace"], service["metadata"]["name"]
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [namespace]}
    # Knative labels every pod of a revision with its Service's name ...
    assert monitor["spec"]["selector"] == {"matchLabels": {"serving.knative.dev/service": name}}
    # ... and names the user container's port user-port (knative.dev/serving, UserPortName).
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("user-port", "/metrics")
    values = yaml.safe_load((CLUSTER / "prometheus-values.yaml").read_text())
    assert values["prometheus"]["prometheusSpec"]["podMonitorSelectorNilUsesHelmValues"] is False
