"""The image without a container engine: a venv from requirements.txt alone, the files the
Dockerfile copies, the server started as its entrypoint starts it, a real prediction over HTTP."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from loadtest.local_server import free_port, stop, wait_ready
from tests.release.files import (
    REPO,
    SMOKE_TEST,
    context_copies,
    dockerfile,
    entrypoint,
    runtime_stage,
)

pytestmark = pytest.mark.slow

REVISION = "house-price-v1"
VENV_BUDGET_MB = 200  # measured 176 MB on CPython 3.11 (docs/benchmarks.md)


@pytest.fixture(scope="module")
def runtime_venv(tmp_path_factory) -> Path:
    """A venv built like the image's: no pip of its own, requirements.txt installed into it."""
    venv = tmp_path_factory.mktemp("image") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True, timeout=60)
    install = [sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install"]
    result = subprocess.run(
        [*install, "--quiet", "--disable-pip-version-check", "-r", REPO / "requirements.txt"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return venv


@pytest.fixture(scope="module")
def image_root(tmp_path_factory) -> Path:
    """The image's WORKDIR: what the runtime stage copies from the build context."""
    root = tmp_path_factory.mktemp("app")
    for sources, destination in context_copies(runtime_stage(dockerfile())):
        target = root / destination
        target.mkdir(parents=True, exist_ok=True)
        for path in (p for source in sources for p in REPO.glob(source.rstrip("/"))):
            if path.is_dir():
                shutil.copytree(path, target, dirs_exist_ok=True)
            else:
                shutil.copy2(path, target)
    return root


@pytest.fixture(scope="module")
def server(runtime_venv, image_root):
    """The server as the image runs it: its ENV, its entrypoint, its WORKDIR; on 127.0.0.1."""
    parser = dockerfile()
    port = free_port()
    env = {
        **parser.envs,
        "PATH": f"{runtime_venv / 'bin'}:/usr/bin:/bin",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "K_REVISION": REVISION,
    }
    command = entrypoint(runtime_stage(parser))
    process = subprocess.Popen(
        command,
        cwd=image_root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(process, url, timeout=60)
        yield url
    finally:
        stop(process)


def test_runtime_venv_holds_no_training_or_development_package(runtime_venv):
    absent = ["pip", "sklearn", "joblib", "pandas", "skl2onnx", "kubernetes", "locust", "pytest"]
    probe = "import sys, importlib.util as u; print([m for m in sys.argv[1:] if u.find_spec(m)])"
    result = subprocess.run(
        [runtime_venv / "bin" / "python", "-c", probe, *absent],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert result.stdout.strip() == "[]"


def test_runtime_venv_stays_within_its_size_budget(runtime_venv):
    size = sum(p.lstat().st_size for p in runtime_venv.rglob("*") if not p.is_symlink())
    assert size / 1e6 < VENV_BUDGET_MB


def test_server_from_the_image_contents_answers_a_prediction(server, row):
    response = requests.post(f"{server}/predict", json=[row], timeout=10)
    assert response.status_code == 200, response.text
    (prediction,) = response.json()["prediction"]
    assert isinstance(prediction, float) and 0 < prediction < 100
    assert response.headers["X-Model-Version"] == "v1"
    assert response.headers["X-Revision"] == REVISION


def _smoke_test(url: str, revision: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", SMOKE_TEST, url, revision], capture_output=True, text=True, timeout=60
    )


def test_pipeline_smoke_test_passes_on_the_expected_revision(server):
    result = _smoke_test(server, REVISION)
    assert result.returncode == 0, result.stderr
    assert f"smoke test passed: {REVISION}" in result.stdout


def test_pipeline_smoke_test_fails_when_another_revision_answers(server):
    result = _smoke_test(server, "house-price-v2")
    assert result.returncode == 1
    assert f"answered by revision '{REVISION}', expected 'house-price-v2'" in result.stderr
