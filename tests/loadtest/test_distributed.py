"""Locust with --processes 2, and as a master with two separate workers, against blue and green
pods behind a route: each run reports exactly what the route got, as a run in one process does
(tests/loadtest/test_run.py)."""

import subprocess

import pytest

from loadtest.local_server import free_port
from tests.loadtest.locust_run import LENIENT, clean_env, command, locust, rows
from tests.support.blue_green import BLUE, GREEN, PODS, blue_green, posts_per_pod
from tests.support.repo import REPO

pytestmark = pytest.mark.slow


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


def with_processes(host, prefix, *options):
    """``--processes 2`` on a free port (locust's default, 5557, may be taken by another run)."""
    port = str(free_port())
    return locust(host, prefix, "--master-port", port, "--master-bind-port", port, *options)


RUNS = {  # how locust runs, with which shape
    "--processes 2": (with_processes, ["--processes", "2", "--shape", "spike", "--run-time", "2s"]),
    "master and 2 workers": (with_workers, ["--shape", "ramp", "--run-time", "2s"]),
}


@pytest.mark.parametrize("mode", RUNS)
def test_the_report_counts_every_request_the_route_got(pods, tmp_path, mode):
    route_url, route, urls = pods
    before = posts_per_pod(route, urls)
    run_locust, options = RUNS[mode]
    run = run_locust(route_url, tmp_path / "run", *LENIENT, "--slo-min-rps", "0", *options)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SLO met" in run.stdout

    sent = {pod: count - before[pod] for pod, count in posts_per_pod(route, urls).items()}
    got = {BLUE: 0, GREEN: 0}  # what the route sent to each revision during this run
    answered_by = {BLUE: 0, GREEN: 0}  # how many of its pods got requests
    for pod, count in sent.items():
        got[PODS[pod][0]] += count
        answered_by[PODS[pod][0]] += count > 0
    total = sum(got.values())
    assert total > 0
    assert f"requests judged: {total} (0 failed)" in run.stdout  # by the SLO gate

    counted = {BLUE: 0, GREEN: 0}
    for row in rows(tmp_path / "run_revisions.csv"):
        counted[row["Revision"]] += int(row["Requests"])
        assert 1 <= int(row["Pods"]) <= answered_by[row["Revision"]]
    assert counted == got

    split = ", ".join(
        f"{revision} {n} ({n / total:.0%}, {answered_by[revision]} pod"
        + "s" * (answered_by[revision] != 1) + ")"
        for revision, n in got.items() if n
    )  # fmt: skip
    assert f"requests per revision: {split}\n" in run.stdout
