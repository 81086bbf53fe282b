"""A real Prometheus server (Debian's ``prometheus`` package, which ``.ci/run`` installs) for the
tests: a generated config scraping the given targets every second, storage in a temporary folder,
a free port on 127.0.0.1, stopped by the test that started it.
"""

import shutil
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import requests
import yaml

from loadtest.local_server import free_port, stop

SCRAPE_SECONDS = 1
START_TIMEOUT = 30


@contextmanager
def running_prometheus(folder: Path, targets: list[str]):
    """Yield the URL of a Prometheus scraping ``targets`` (``host:port``) at ``/metrics``."""
    binary = shutil.which("prometheus")
    assert binary, "Prometheus is not installed: `apt-get install prometheus` (.ci/run does it)"
    config = {
        "global": {"scrape_interval": f"{SCRAPE_SECONDS}s", "scrape_timeout": "1s"},
        "scrape_configs": [{"job_name": "predictor", "static_configs": [{"targets": targets}]}],
    }
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    with open(folder / "prometheus.log", "w") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until(lambda: _answers(f"{url}/-/ready"), process, folder)
        _wait_until(lambda: _all_up(url, len(targets)), process, folder)
        yield url
    finally:
        stop(process)


def _wait_until(condition, process, folder: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not condition():
        log = (folder / "prometheus.log").read_text()
        assert process.poll() is None, f"Prometheus exited {process.returncode}: {log}"
        assert time.monotonic() < deadline, f"Prometheus not ready in {START_TIMEOUT} s: {log}"
        time.sleep(0.1)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


def _all_up(url: str, count: int) -> bool:
    """Every target scraped successfully at least once."""
    answer = requests.get(f"{url}/api/v1/query", params={"query": "up == 1"}, timeout=2).json()
    return len(answer["data"]["result"]) == count
