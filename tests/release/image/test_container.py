"""The image built from the Dockerfile by a real container engine (podman) and run the way Knative
runs it (image/run.sh): a prediction that matches the local server's, the revision it comes from,
a clean log, and a process that can neither write its root filesystem nor gain privileges."""

import os
import subprocess
import time
import uuid
from dataclasses import dataclass

import pytest
import requests

from loadtest.local_server import free_port
from tests.release.image.podman import podman
from tests.support.repo import REPO, SAMPLE_ROW

pytestmark = pytest.mark.slow

REVISION = "house-price-v7"
# Measured 376 MB: the Debian stand-in base 199 MB, the venv 176 MB, function/ and the models
# 0.4 MB. The limit leaves room for patch releases of the pinned packages, not for a new one.
IMAGE_LIMIT_MB = 400


@dataclass
class Container:
    name: str
    url: str
    first_prediction: requests.Response
    start_to_first_prediction: float


def predict_when_up(url: str, row: dict, timeout: float = 60) -> requests.Response:
    """POST /predict until the server answers (connections are refused while it starts)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return requests.post(f"{url}/predict", json=[row], timeout=5)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@pytest.fixture(scope="module")
def container(image):
    """The image started by image/run.sh on a free port of 127.0.0.1, until its first prediction."""
    name = f"house-price-test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {**os.environ, "PORT": str(port), "K_REVISION": REVISION}
    started = time.monotonic()
    subprocess.run(
        [REPO / "image" / "run.sh", image, "--detach", "--name", name],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        response = predict_when_up(url, SAMPLE_ROW)
        yield Container(name, url, response, time.monotonic() - started)
    finally:
        podman("rm", "--force", "--time", "0", name)


def test_image_stays_within_its_size_limit(image, capsys):
    size_mb = int(podman("image", "inspect", "--format", "{{.Size}}", image)) / 1e6
    with capsys.disabled():
        print(f"\n{image}: {size_mb:.0f} MB (limit {IMAGE_LIMIT_MB} MB)")
    assert size_mb < IMAGE_LIMIT_MB


def test_first_prediction_is_the_local_servers_and_names_its_revision(container, server, capsys):
    with capsys.disabled():
        print(f"\ncontainer start -> first prediction: {container.start_to_first_prediction:.2f} s")
    response = container.first_prediction
    assert response.status_code == 200, response.text
    assert response.headers["X-Revision"] == REVISION
    assert response.headers["X-Model-Version"] == "v1"
    local = requests.post(f"{server}/predict", json=[SAMPLE_ROW], timeout=10).json()["prediction"]
    assert response.json()["prediction"] == pytest.approx(local, rel=1e-6)


def test_log_of_a_clean_start_has_only_info_lines(container):
    log = podman("logs", container.name, stderr=subprocess.STDOUT).splitlines()
    assert log and [line for line in log if not line.startswith("[INFO] ")] == []


def _in_container(container: Container, code: str) -> str:
    return podman("exec", container.name, "python", "-c", code).strip()


def test_server_runs_as_user_10001_without_capabilities_or_new_privileges(container):
    status = _in_container(container, "print(open('/proc/1/status').read())")
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    assert fields["Uid"].split() == ["10001"] * 4
    assert fields["Gid"].split() == ["10001"] * 4
    assert int(fields["CapEff"], 16) == int(fields["CapPrm"], 16) == 0
    assert fields["NoNewPrivs"].strip() == "1"


def test_root_filesystem_is_read_only_everywhere(container):
    probe = (
        "import errno, os\n"
        "for path in ('/', '/app', '/opt/venv', '/tmp', '/var/tmp', '/run'):\n"
        "    try:\n"
        "        open(os.path.join(path, 'probe'), 'w')\n"
        "        print(path, 'writable')\n"
        "    except OSError as error:\n"
        "        print(path, errno.errorcode[error.errno])\n"
    )
    lines = _in_container(container, probe).splitlines()
    assert [line.split()[1] for line in lines] == ["EROFS"] * 6, lines
