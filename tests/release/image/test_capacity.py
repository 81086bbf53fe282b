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


def test_without_a_cpu_limit_there_is_no_quota_to_count(image, tmp_path):
    curve = sweep(image, tmp_path / "curve.json", "4", "--cpu-limit", "none")
    assert "--cpus" not in curve["resources"]["podman"].split()
    (level,) = curve["levels"]
    assert level["errors"] == 0
    assert level["periods"] == level["throttled_periods"] == 0
    assert level["server_cpu"] > 0
