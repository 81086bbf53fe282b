"""The capacity sweep (loadtest/capacity.py): resources read from a manifest and turned into
podman options, the cgroup counters, and a real wrk sweep of the real server on 127.0.0.1."""

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from loadtest import capacity
from loadtest.capacity import Level, Sweep, Throttling
from loadtest.local_server import start_server, stop, wait_ready
from tests.support.repo import REPO


def manifest(tmp_path: Path, resources: dict) -> Path:
    """knative/base/service.yaml with the predictor's resources replaced."""
    service = yaml.safe_load((REPO / "knative" / "base" / "service.yaml").read_text())
    service["spec"]["template"]["spec"]["containers"][0]["resources"] = resources
    path = tmp_path / "service.yaml"
    path.write_text(yaml.safe_dump(service))
    return path


def test_the_committed_manifest_gives_the_pods_requests_and_limits():
    service = yaml.safe_load((REPO / "knative" / "base" / "service.yaml").read_text())
    declared = service["spec"]["template"]["spec"]["containers"][0]["resources"]
    resources = capacity.read_resources()
    assert resources.cpu_request == str(declared["requests"]["cpu"])
    assert resources.cpu_limit == str(declared["limits"]["cpu"])
    assert resources.memory_limit == str(declared["limits"]["memory"])
    options = resources.podman_options()
    assert options[options.index("--cpus") + 1] == f"{capacity.cpu_cores(resources.cpu_limit):g}"


@pytest.mark.parametrize(
    ("resources", "options", "static"),
    [
        # Burstable (request < limit): a quota and a weight, on one core of the shared pool
        (
            {
                "requests": {"cpu": "1", "memory": "512Mi"},
                "limits": {"cpu": "2", "memory": "512Mi"},
            },
            ["--cpus", "2", "--cpu-shares", "1024", "--memory", "536870912", "--cpuset-cpus", "0"],
            None,
        ),
        # Guaranteed with whole CPUs: the static CPU manager pins the container to them
        (
            {"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "1Gi"}},
            [
                "--cpus",
                "2",
                "--cpu-shares",
                "2048",
                "--memory",
                "1073741824",
                "--cpuset-cpus",
                "0-1",
            ],
            2,
        ),
        # limits alone: Kubernetes makes the requests equal to them (Guaranteed)
        (
            {"limits": {"cpu": "1000m", "memory": "256Mi"}},
            ["--cpus", "1", "--memory", str(2**28), "--cpuset-cpus", "0"],
            1,
        ),
        # whole CPUs, but the memory request below its limit: Burstable, shared cores
        (
            {"requests": {"cpu": "1", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
            ["--cpus", "1", "--cpu-shares", "1024", "--memory", str(2**30), "--cpuset-cpus", "0"],
            None,
        ),
        # Guaranteed but fractional: shared cores
        (
            {"requests": {"cpu": "1500m"}, "limits": {"cpu": "1500m", "memory": "1Gi"}},
            ["--cpus", "1.5", "--cpu-shares", "1536", "--memory", str(2**30), "--cpuset-cpus", "0"],
            None,
        ),
        # no CPU limit: no quota at all
        ({"requests": {"cpu": "250m"}}, ["--cpu-shares", "256", "--cpuset-cpus", "0"], None),
    ],
)
def test_resources_become_the_podman_options_the_kubelet_would_apply(
    tmp_path, resources, options, static
):
    read = capacity.read_resources(manifest(tmp_path, resources))
    assert read.static_cpus == static
    assert read.podman_options() == options


def test_quantities_are_read_as_kubernetes_writes_them():
    assert [capacity.cpu_cores(q) for q in ("1", "2", "500m", "1.5", "100m")] == [
        1.0, 2.0, 0.5, 1.5, 0.1,
    ]  # fmt: skip
    assert capacity.memory_bytes("512Mi") == 512 * 2**20
    assert capacity.memory_bytes("1G") == 10**9
    assert capacity.memory_bytes("1048576") == 2**20


def test_the_slo_is_locust_confs():
    conf = (REPO / "loadtest" / "locust.conf").read_text()
    line = next(line for line in conf.splitlines() if line.startswith("slo-p99-ms"))
    assert capacity.slo_p99_ms() == float(line.split("=")[1])


def test_cgroup_v1_counters_in_nanoseconds(tmp_path):
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpuacct").mkdir()
    (tmp_path / "cpu" / "cpu.stat").write_text(
        "nr_periods 65\nnr_throttled 62\nthrottled_time 1260000000\nnr_bursts 0\nburst_time 0\n"
    )
    (tmp_path / "cpuacct" / "cpuacct.usage").write_text("6000000000\n")
    stat = capacity.read_throttling(tmp_path / "cpu", tmp_path / "cpuacct")
    assert stat == Throttling(periods=65, throttled_periods=62, throttled_s=1.26, usage_s=6.0)


def test_cgroup_v2_counters_in_microseconds(tmp_path):
    (tmp_path / "cpu.stat").write_text(
        "usage_usec 6000000\nuser_usec 5000000\nsystem_usec 1000000\n"
        "nr_periods 65\nnr_throttled 62\nthrottled_usec 1260000\n"
    )
    stat = capacity.read_throttling(tmp_path, tmp_path)
    assert stat == Throttling(periods=65, throttled_periods=62, throttled_s=1.26, usage_s=6.0)
    assert stat - Throttling(5, 2, 0.26, 1.0) == Throttling(60, 60, 1.0, 5.0)


def test_this_processs_cgroup_counters_can_be_read():
    cpu, cpuacct = capacity.cgroup_cpu_dirs(os.getpid())
    before = capacity.read_throttling(cpu, cpuacct)
    sum(range(3_000_000))  # some CPU time
    after = capacity.read_throttling(cpu, cpuacct)
    assert after.usage_s > before.usage_s
    assert after.periods >= before.periods


def test_this_processs_working_set_grows_with_memory_it_touches():
    before = capacity.working_set_bytes(os.getpid())
    touched = b"\x01" * (128 * 2**20)  # every page written
    after = capacity.working_set_bytes(os.getpid())
    assert before > 0 and after - before > 64 * 2**20  # other processes share the cgroup
    del touched


def test_wrk_output_without_the_scripts_figures_is_an_error():
    with pytest.raises(RuntimeError, match="no figures"):
        capacity.parse_wrk("Running 1s test @ http://127.0.0.1:1/predict\n")


def level(concurrency: int, p99_ms: float, errors: int = 0) -> Level:
    return Level(concurrency, 100.0, p99_ms / 2, p99_ms, errors, None, None, None, None, 0.1)


def test_the_highest_level_within_the_slo_is_below_the_first_past_it():
    levels = [level(1, 1), level(2, 2), level(4, 600), level(8, 3)]
    assert capacity.max_within_slo(levels, 500) == 2
    assert capacity.max_within_slo([level(1, 1), level(2, 1, errors=1)], 500) == 1
    assert capacity.max_within_slo([level(1, 900)], 500) is None


class QueueingSweep(Sweep):
    """A server whose p99 is 10 ms per request in flight, in place of wrk: the search alone."""

    def once(self, concurrency: int) -> Level:
        return level(concurrency, 10.0 * concurrency)


def test_the_sweep_doubles_until_past_the_slo_then_halves_the_gap():
    measured = QueueingSweep("http://127.0.0.1:1", seconds=1, slo_ms=500).run(capacity.LEVELS)
    assert [each.concurrency for each in measured] == [1, 2, 4, 8, 16, 32, 48, 52, 56, 64]
    assert capacity.max_within_slo(measured, 500) == 48


@pytest.fixture(scope="module")
def server():
    process, url = start_server()
    try:
        wait_ready(process, url)
        yield url
    finally:
        stop(process)


def test_a_sweep_of_the_real_server_with_wrk(server):
    assert shutil.which("wrk"), "the capacity sweep needs wrk (.ci/run installs it)"
    measured = Sweep(server, seconds=1, slo_ms=500).run([1, 4])
    assert [each.concurrency for each in measured] == [1, 4]
    for each in measured:
        assert each.errors == 0
        assert each.rps > 50
        assert 0 < each.p50_ms <= each.p99_ms < 500
        assert 0 < each.loadgen_cpu < 1
        assert each.periods is None and each.server_cpu is None  # no container, no cgroup


def test_an_slo_that_the_first_level_misses_stops_the_sweep(server):
    measured = Sweep(server, seconds=1, slo_ms=0.001).run([1, 2, 4])
    assert [each.concurrency for each in measured] == [1]
    assert capacity.max_within_slo(measured, 0.001) is None


def test_the_command_against_a_url_writes_the_curve(server, tmp_path, capsys):
    out = tmp_path / "curve.json"
    capacity.main(["--url", server, "--levels", "1,2", "--seconds", "1", "--json", str(out)])
    curve = json.loads(out.read_text())
    assert set(curve) == {
        "measured", "method", "target", "resources", "slo_p99_ms", "levels",
        "max_concurrency_within_slo",
    }  # fmt: skip
    assert curve["target"] == server
    assert curve["slo_p99_ms"] == capacity.slo_p99_ms()
    assert [each["concurrency"] for each in curve["levels"]] == [1, 2]
    assert curve["max_concurrency_within_slo"] == 2
    assert curve["levels"][0]["throttled_periods"] is None
    table = capsys.readouterr().out
    assert "highest concurrency within p99 500 ms: 2 (not crossed up to 2)" in table


@pytest.mark.parametrize("argv", [["--levels", "1,x"], ["--seconds", "0"], ["--runs", "-1"]])
def test_bad_options_are_usage_errors_naming_the_value(argv, capsys):
    with pytest.raises(SystemExit) as stopped:
        capacity.parse_args(argv)
    assert stopped.value.code == 2
    assert f"whole number above 0, got {argv[1].split(',')[-1]!r}" in capsys.readouterr().err
