"""The cluster scripts install the release we validate against, stop at the first error, and
check their tools before touching anything. kubectl, eksctl and kn are stand-ins that record
their arguments (helm too): these tests check what the scripts ask for, never Kubernetes itself."""

import os
import re
import shutil
import subprocess

import pytest
import yaml

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
def test_config_patches_are_knative_config_maps_the_install_applies(patch):
    config_map = yaml.safe_load(patch.read_text())
    assert (config_map["kind"], config_map["metadata"]["name"]) == ("ConfigMap", patch.stem)
    assert config_map["metadata"]["namespace"] == "knative-serving"
    assert all(isinstance(value, str) for value in config_map["data"].values())
    assert f'"$CLUSTER_DIR/{patch.name}"' in (CLUSTER / "install-knative.sh").read_text()


def test_autoscaler_settings_are_keys_knative_knows():
    assert set(config_map_data("config-autoscaler")) <= set(reference_defaults("config-autoscaler"))


def test_kourier_is_the_ingress():
    assert config_map_data("config-network") == {
        "ingress-class": "kourier.ingress.networking.knative.dev"
    }


@pytest.fixture
def tools(tmp_path):
    """A PATH with dirname and recording stand-ins for kubectl, eksctl and kn."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    (bin_dir / "dirname").symlink_to(shutil.which("dirname"))

    def add(name, body=""):
        stub = bin_dir / name
        stub.write_text(f'#!/bin/bash\necho "{name} $*" >> "{log}"\n{body}\n')
        stub.chmod(0o755)

    def run(script, **env):
        result = subprocess.run(
            ["/bin/bash", str(CLUSTER / script)],
            capture_output=True,
            text=True,
            env={"PATH": str(bin_dir), **env},
            timeout=60,
        )
        calls = log.read_text().splitlines() if log.exists() else []
        return result, calls

    return add, run


@pytest.mark.parametrize(
    ("script", "missing"),
    [
        ("install-knative.sh", "eksctl kn"),
        ("teardown.sh", "eksctl kn"),
        ("install-prometheus.sh", "helm"),
    ],
)
def test_missing_tools_stop_the_script_before_anything_runs(tools, script, missing):
    add, run = tools
    add("kubectl")
    result, calls = run(script)
    assert result.returncode == 2
    assert f"not on PATH: {missing};" in result.stderr
    assert calls == []


def every_tool(tools, kubectl_body=""):
    """kubectl (running ``kubectl_body`` after it records its call), eksctl, kn, helm on PATH."""
    add, run = tools
    add("kubectl", kubectl_body)
    for name in ("eksctl", "kn", "helm"):
        add(name)
    return run


def test_no_cluster_stops_the_install_before_any_change(tools):
    result, calls = every_tool(tools, "exit 1")("install-knative.sh")
    assert result.returncode == 2
    assert "< cluster/eks-cluster.yaml | eksctl create cluster -f -" in result.stderr
    assert calls == ["kubectl cluster-info"]  # and nothing after it


def position(calls, fragment):
    return next(i for i, call in enumerate(calls) if fragment in call)


@pytest.fixture
def all_tools(tools):
    return every_tool(tools)


def test_install_order_waits_for_each_layer(all_tools):
    result, calls = all_tools("install-knative.sh")
    assert result.returncode == 0, result.stderr
    order = [
        "knative-v1.23.0/serving-crds.yaml",
        "condition=Established",
        "knative-v1.23.0/serving-core.yaml",
        "knative-v1.23.0/kourier.yaml",
        "aws-load-balancer-connection-idle-timeout",
        "--dry-run=server",
        "config-autoscaler.yaml",
        "serving-default-domain.yaml",
        "job/default-domain",
        "crd nodepools.karpenter.sh",
        "karpenter.yaml",
        "ci-rbac.yaml",
    ]
    assert [position(calls, step) for step in order] == sorted(position(calls, s) for s in order)
    settings = [call for call in calls if "config-autoscaler.yaml" in call]
    assert len(settings) == 2 and all("--server-side" in call for call in settings)
    assert "--dry-run=server" in settings[0] and "--dry-run" not in settings[1]
    assert all(f in settings[0] for f in ("config-network.yaml", "config-features.yaml"))
    assert "knative/base/namespace.yaml" in calls[position(calls, "ci-rbac.yaml")]


def test_no_karpenter_stops_the_install_with_a_message(tools):
    no_karpenter = 'if [[ "$*" == "get crd nodepools.karpenter.sh" ]]; then exit 1; fi'
    result, calls = every_tool(tools, no_karpenter)("install-knative.sh")
    assert result.returncode == 2
    assert "Karpenter is not installed" in result.stderr
    assert not any("karpenter.yaml" in call or "ci-rbac.yaml" in call for call in calls)


def test_a_real_domain_replaces_sslip_io(all_tools):
    result, calls = all_tools("install-knative.sh", KNATIVE_DOMAIN="ml.example.com")
    assert result.returncode == 0, result.stderr
    assert '"ml.example.com": ""' in calls[position(calls, "config-domain")]
    assert not any("default-domain" in call for call in calls)


TEARDOWN_ORDER = [
    "namespace house-price",
    "namespace monitoring",
    "karpenter.yaml",  # the node pool: Karpenter terminates its nodes, which eksctl cannot see
    "kourier.yaml",  # its Service of type LoadBalancer owns the AWS load balancer
    "serving-default-domain.yaml",
    "serving-core.yaml",
    "serving-crds.yaml",
]


def test_teardown_deletes_what_the_install_made_from_the_top_down(all_tools):
    result, calls = all_tools("teardown.sh")
    assert result.returncode == 0, result.stderr
    deletes = [call for call in calls if call.startswith("kubectl delete ")]
    assert all("--ignore-not-found" in call for call in deletes)
    assert [position(deletes, step) for step in TEARDOWN_ORDER] == list(range(7))
    assert not any(call.startswith("eksctl") for call in calls)


def test_prometheus_is_the_pinned_chart_installed_idempotently_then_scrapes_the_predictor(
    all_tools,
):
    result, calls = all_tools("install-prometheus.sh")
    assert result.returncode == 0, result.stderr
    (pinned,) = re.findall(r'PROMETHEUS_CHART_VERSION="([^"]+)"', (CLUSTER / "lib.sh").read_text())
    install = calls[position(calls, "helm upgrade --install")]
    assert "prometheus-community/kube-prometheus-stack" in install
    assert f"--version {pinned}" in install and "--namespace monitoring" in install
    assert "prometheus-values.yaml" in install and "--wait" in install
    order = [
        "helm repo add",
        "helm upgrade --install",
        "predictor-podmonitor.yaml",
        "rollout status",
    ]
    assert [position(calls, step) for step in order] == sorted(position(calls, s) for s in order)


def test_teardown_uninstalls_prometheus_only_where_helm_knows_it(tools):
    add, run = tools
    for name in ("kubectl", "eksctl", "kn"):
        add(name)
    add("helm", "exit 1")  # helm status: no such release
    result, calls = run("teardown.sh")
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
