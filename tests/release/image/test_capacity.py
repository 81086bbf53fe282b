"""``python -m loadtest.capacity`` against the real image under podman, briefly: the container
gets the manifest's resources, and the sweep reads its cgroup's CFS counters."""

import json
import subprocess
import sys

import pytest

from loadtest import capacity
from tests.support.repo import REPO

pytestmark = pytest.mark.slow


def sweep(image: str, out, levels: str, *options: str) -> dict:
    command = [sys.executable, "-m", "loadtest.capacity", "--image", image, "--levels", levels,
               "--seconds", "1", "--json", str(out), *options]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    print(result.stdout)
    return json.loads(out.read_text())


def test_the_image_under_the_manifests_resources(image, tmp_path):
    curve = sweep(image, tmp_path / "curve.json", "1,4")
    declared = capacity.read_resources()
    assert curve["target"] == image
    assert curve["resources"]["cpu_limit"] == declared.cpu_limit
    assert curve["resources"]["podman"] == " ".join(declared.podman_options())
    for level in curve["levels"]:
        assert level["errors"] == 0
        assert level["rps"] > 50
        # A CPU limit is a CFS quota: its periods are counted while the server works
        assert level["periods"] > 0
        assert 0 <= level["throttled_periods"] <= level["periods"]
        assert 0 < level["server_cpu"] <= 1.05  # one core of the shared pool (cpuset 0)
    assert curve["max_concurrency_within_slo"] == 4


def test_a_quota_on_two_cores_is_throttled_under_load(image, tmp_path):
    """One CPU of quota, threads free on both cores: the server's I/O thread and its Python
    thread together outrun the quota, and the counters show it."""
    curve = sweep(image, tmp_path / "curve.json", "16", "--cpu-limit", "1", "--server-cpus", "0,1")
    assert curve["resources"]["podman"].startswith("--cpus 1 ")
    (level,) = curve["levels"]
    assert level["throttled_periods"] > 0
    assert level["throttled_s"] > 0
