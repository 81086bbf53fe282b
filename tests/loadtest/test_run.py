"""Short, bounded headless locust runs (a subprocess) against a real local server process."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.repo import REPO

ROOT = REPO
LOCUST = Path(sys.executable).with_name("locust")
REVISION = "house-price-v1"  # what the `server` fixture (conftest) answers as
LENIENT = ["--slo-p95-ms", "2000", "--slo-p99-ms", "5000", "--slo-failure-ratio", "0"]

pytestmark = pytest.mark.slow


def clean_env() -> dict[str, str]:
    """This process's environment without LOCUST_* settings that would change the runs."""
    return {key: value for key, value in os.environ.items() if not key.startswith("LOCUST_")}


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


def test_a_run_within_lenient_slos_passes_and_writes_every_report(server, tmp_path):
    run = locust(server, tmp_path / "run", *LENIENT, "--slo-min-rps", "1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SLO met: p95" in run.stdout

    stats = {row["Name"]: row for row in rows(tmp_path / "run_stats.csv")}
    for name in ["/predict", "/v2/models/house-price/infer", "/ [cloudevent]"]:
        assert int(stats[name]["Request Count"]) > 0, name
    assert stats["Aggregated"]["Failure Count"] == "0"
    assert {row["Revision"] for row in rows(tmp_path / "run_revisions.csv")} == {REVISION}
    assert (tmp_path / "run_report.png").read_bytes().startswith(b"\x89PNG")
    assert "<html" in (tmp_path / "run.html").read_text()


def test_an_impossible_slo_exits_non_zero_naming_the_breach(server, tmp_path):
    run = locust(server, tmp_path / "run", *LENIENT, "--slo-min-rps", "1000000")
    assert run.returncode == 1, run.stdout + run.stderr
    breaches = [line for line in run.stdout.splitlines() if line.startswith("SLO BREACH")]
    assert len(breaches) == 1, run.stdout + run.stderr
    assert breaches[0].startswith("SLO BREACH: throughput ")
    assert breaches[0].endswith(" req/s < 1e+06 req/s")


def test_a_broken_setup_fails_before_any_load(tmp_path):
    run = locust("http://127.0.0.1:9", tmp_path / "run", "--model-card", str(tmp_path / "no.json"))
    assert run.returncode == 1
    assert f"loadtest: model card {tmp_path / 'no.json'} not found" in run.stderr
    assert "Shape test starting" not in run.stderr
