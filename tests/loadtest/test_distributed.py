"""Locust with --processes 2, and as a master with two separate workers, against blue and green
pods behind a route: each run reports exactly what the route got, as a run in one process does
(tests/loadtest/test_run.py)."""

import re
import subprocess

import pytest

from loadtest.local_server import free_port
from tests.loadtest.locust_run import LENIENT, clean_env, command, locust, rows
from tests.support.blue_green import BLUE, GREEN, PODS, blue_green, per_revision
from tests.support.repo import REPO

pytestmark = pytest.mark.slow
PATHS = ["/predict", "/v2/models/house-price/infer", "/"]  # every request locust sends


@pytest.fixture(scope="module")
def pods():
    with blue_green(seed=5) as running:
        yield running


def with_workers(host, prefix, *options):
    """A master and two worker processes, all on 127.0.0.1; workers log next to the reports."""
    port = str(free_port())
    worker = command("--worker", "--master-host", "127.0.0.1", "--master-port", port)
    logs = [prefix.with_name(f"worker{i}.log") for i in range(2)]
    workers = []
    for log in logs:
        with open(log, "w") as output:
            workers.append(
                subprocess.Popen(worker, cwd=REPO, env=clean_env(), stdout=output, stderr=output)
            )
    try:
        master = ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", port]
        master += ["--expect-workers", "2", "--expect-workers-max-wait", "30"]
        run = locust(host, prefix, *master, *options)
        for process, log in zip(workers, logs, strict=True):
            assert process.wait(timeout=30) == 0, log.read_text()
        return run
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
                process.wait()


RUNS = {  # how locust runs, with which shape
    "--processes 2": (locust, ["--processes", "2", "--shape", "spike", "--run-time", "2s"]),
    "master and 2 workers": (with_workers, ["--shape", "ramp", "--run-time", "2s"]),
}


@pytest.mark.parametrize("mode", RUNS)
def test_the_report_counts_every_request_the_route_got(pods, tmp_path, mode):
    route_url, route, urls = pods
    before = {path: per_revision(route, urls, f"POST {path}") for path in PATHS}
    run_locust, options = RUNS[mode]
    run = run_locust(route_url, tmp_path / "run", *LENIENT, "--slo-min-rps", "1", *options)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SLO met" in run.stdout

    got = {BLUE: 0, GREEN: 0}  # what the route sent to each revision during this run
    for path in PATHS:
        for revision, count in per_revision(route, urls, f"POST {path}").items():
            got[revision] += count - before[path][revision]
    assert f"requests judged: {sum(got.values())} (0 failed)" in run.stdout  # by the SLO gate
    assert sum(got.values()) > 0

    counted = {BLUE: 0, GREEN: 0}
    for row in rows(tmp_path / "run_revisions.csv"):
        counted[row["Revision"]] += int(row["Requests"])
        assert 1 <= int(row["Pods"]) <= sum(PODS[pod][0] == row["Revision"] for pod in PODS)
    assert counted == got

    [summary] = re.findall(r"^requests per revision: .*$", run.stdout, re.M)
    assert f"{BLUE} {got[BLUE]} (" in summary and f"{GREEN} {got[GREEN]} (" in summary
    assert "2 pods" in summary  # blue's two pods both answered
