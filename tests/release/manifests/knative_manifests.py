"""What the manifest and cluster tests share: paths, the rendered phases, Knative's CRD schema."""

import copy
import functools
import os
import subprocess
from pathlib import Path

import yaml

from tests.release.manifests.knative_rules.limits import ClusterLimits
from tests.support.repo import REPO

RENDER = REPO / "knative" / "render.sh"
PHASES = sorted(p.parent.name for p in (REPO / "knative" / "phases").glob("*/kustomization.yaml"))
CLUSTER = REPO / "cluster"
# Knative Serving's own files (the release cluster/lib.sh installs); see the README there.
REFERENCE = Path(__file__).resolve().parent / "knative-serving"
IMAGE = "registry.example/house-price:test"
RELEASE = "1a2b3c4"


def render(
    phase: str, image: str | None = IMAGE, release: str | None = RELEASE
) -> subprocess.CompletedProcess:
    """Run ``knative/render.sh phase`` as a user would, with ``IMAGE`` and ``RELEASE`` set (or
    unset: None)."""
    env = {key: value for key, value in os.environ.items() if key not in ("IMAGE", "RELEASE")}
    env |= {"IMAGE": image} if image is not None else {}
    env |= {"RELEASE": release} if release is not None else {}
    return subprocess.run(
        [str(RENDER), phase], capture_output=True, text=True, env=env, timeout=60, check=False
    )


@functools.cache
def _phase_documents(phase: str) -> tuple[dict, ...]:
    result = render(phase)
    assert result.returncode == 0, result.stderr
    return tuple(yaml.safe_load_all(result.stdout))


def phase_documents(phase: str) -> list[dict]:
    """Every object a phase applies, parsed (a fresh copy that a test may change)."""
    return copy.deepcopy(list(_phase_documents(phase)))


def phase_service(phase: str) -> dict:
    """The one Knative Service a phase applies."""
    services = [d for d in phase_documents(phase) if d["kind"] == "Service"]
    assert len(services) == 1, f"{phase} renders {len(services)} Services"
    return services[0]


def rendered(name: str, **values: str) -> str:
    """A cluster/ file with envsubst filling in ``values`` and nothing else, as the README does."""
    shell_format = " ".join(f"${{{key}}}" for key in values)
    text = subprocess.run(
        ["envsubst", shell_format],
        input=(CLUSTER / name).read_text(),
        env={"PATH": os.environ["PATH"], **values},
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    ).stdout
    assert "${" not in text, f"{name} has a placeholder the README does not fill in"
    return text


def config_map_data(name: str) -> dict[str, str]:
    """The ``data`` of one of the cluster/config-*.yaml patches."""
    return yaml.safe_load((CLUSTER / f"{name}.yaml").read_text())["data"]


def cluster_limits() -> ClusterLimits:
    """The limits our cluster enforces: Knative's defaults with cluster/config-autoscaler.yaml."""
    return ClusterLimits.from_config(config_map_data("config-autoscaler"))


def reference_file(name: str) -> Path:
    """A file of Knative Serving's release, kept in the repository as test data."""
    return REFERENCE / name


def reference_defaults(config_map: str) -> dict:
    """The documented defaults of a Knative ConfigMap (its ``_example`` block), as a dict."""
    document = yaml.safe_load(reference_file(f"{config_map}.yaml").read_text())
    return yaml.safe_load(document["data"]["_example"])


@functools.cache
def service_schema() -> dict:
    """The Service CRD's v1 schema, closed: a field Kubernetes would silently drop is an error."""
    crd = yaml.safe_load(reference_file("service.yaml").read_text())
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    return _closed(version["schema"]["openAPIV3Schema"])


def _closed(node):
    if isinstance(node, list):
        return [_closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _closed(value) for key, value in node.items()}
    open_ended = node.get("x-kubernetes-preserve-unknown-fields") or "additionalProperties" in node
    if "properties" in node and not open_ended:
        node["additionalProperties"] = False
    return node
