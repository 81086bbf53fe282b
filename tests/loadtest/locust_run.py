"""Run locust as a user would (a subprocess, the project's locust.conf), bounded in time."""

import csv
import os
import subprocess
import sys
from pathlib import Path

from tests.support.repo import REPO

LOCUST = Path(sys.executable).with_name("locust")
LENIENT = ["--slo-p95-ms", "2000", "--slo-p99-ms", "5000", "--slo-failure-ratio", "0"]


def clean_env() -> dict[str, str]:
    """This process's environment without LOCUST_* settings that would change the runs."""
    return {key: value for key, value in os.environ.items() if not key.startswith("LOCUST_")}


def command(*options: str) -> list[str]:
    return [str(LOCUST), "--config", "loadtest/locust.conf", *options]


def locust(host: str, prefix: Path, *options: str) -> subprocess.CompletedProcess:
    """One headless run: 3 users for 3 s, reports under `prefix`."""
    run = command("--host", host, "--users", "3", "--spawn-rate", "3", "--run-time", "3s")
    run += ["--stop-timeout", "1s", "--csv", str(prefix), "--html", f"{prefix}.html", *options]
    return subprocess.run(
        run, cwd=REPO, env=clean_env(), capture_output=True, text=True, timeout=60
    )


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as file:
        return list(csv.DictReader(file))
