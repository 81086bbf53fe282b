"""Short, bounded headless locust runs (a subprocess) against a real local predictor process."""

import csv
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
LOCUST = Path(sys.executable).with_name("locust")
REVISION = "house-price-v1"
LENIENT = ["--slo-p95-ms", "2000", "--slo-p99-ms", "5000", "--slo-failure-ratio", "0"]

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without LOCUST_* settings, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LOCUST_")}
    return env | extra


@pytest.fixture(scope="module")
def predictor():
    """`python -m function` on a free port, answering as revision house-price-v1."""
    port = free_port()
    env = clean_env(HOST="127.0.0.1", PORT=str(port), K_REVISION=REVISION)
    server = subprocess.Popen([sys.executable, "-m", "function"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, "the predictor exited before it was ready"
            try:
                if requests.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the predictor was not ready within 30 s"
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def locust(host: str, prefix: Path, *options: str) -> subprocess.CompletedProcess:
    """One headless run with the project's locust.conf, bounded in time."""
    command = [str(LOCUST), "--config", "loadtest/locust.conf", "--host", host]
    command += ["--users", "3", "--spawn-rate", "3", "--run-time", "3s", "--stop-timeout", "1s"]
    command += ["--csv", str(prefix), "--html", f"{prefix}.html", *options]
    return subprocess.run(
        command, cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=60
    )


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def test_a_run_within_lenient_slos_passes_and_writes_every_report(predictor, tmp_path):
    run = locust(predictor, tmp_path / "run", *LENIENT, "--slo-min-rps", "1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SLO met: p95" in run.stdout

    stats = {row["Name"]: row for row in rows(tmp_path / "run_stats.csv")}
    for name in ["/predict", "/v2/models/house-price/infer", "/ [cloudevent]"]:
        assert int(stats[name]["Request Count"]) > 0, name
    assert stats["Aggregated"]["Failure Count"] == "0"
    assert {row["Revision"] for row in rows(tmp_path / "run_revisions.csv")} == {REVISION}
    assert (tmp_path / "run_report.png").read_bytes().startswith(b"\x89PNG")
    assert "<html" in (tmp_path / "run.html").read_text()


def test_an_impossible_slo_exits_non_zero_naming_the_breach(predictor, tmp_path):
    run = locust(predictor, tmp_path / "run", *LENIENT, "--slo-min-rps", "1000000")
    assert run.returncode == 1, run.stdout + run.stderr
    breaches = [line for line in run.stdout.splitlines() if line.startswith("SLO BREACH")]
    assert len(breaches) == 1
    assert breaches[0].startswith("SLO BREACH: throughput ")
    assert breaches[0].endswith(" req/s < 1e+06 req/s")


def test_a_broken_setup_fails_before_any_load(tmp_path):
    run = locust("http://127.0.0.1:9", tmp_path / "run", "--model-card", str(tmp_path / "no.json"))
    assert run.returncode == 1
    assert f"loadtest: model card {tmp_path / 'no.json'} not found" in run.stderr
    assert "Shape test starting" not in run.stderr
