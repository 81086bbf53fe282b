"""Start, wait for and stop the real predictor (``python -m function``) on 127.0.0.1.

One set of helpers for ``make bench`` and the tests.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent


class ServerFailed(RuntimeError):
    """The server exited or did not become ready; the message holds its output."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    python: str | Path = sys.executable,
    cwd: Path = REPO,
    prefix: Sequence[str] = (),
    output: int | None = subprocess.PIPE,
    **env: str,
) -> tuple[subprocess.Popen, str]:
    """Start ``[*prefix, python, -m, function]`` on a free port; return (process, base URL)."""
    port = free_port()
    environment = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), **env}
    process = subprocess.Popen(
        [*map(str, prefix), str(python), "-m", "function"],
        cwd=cwd,
        env=environment,
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, f"http://127.0.0.1:{port}"


def wait_ready(process: subprocess.Popen, url: str, timeout: float = 30) -> None:
    """Poll /readyz until 200; raise ``ServerFailed`` with the output if it exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise ServerFailed(f"server exited with {process.returncode}: {output}")
        try:
            if requests.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    process.kill()
    raise ServerFailed(f"server not ready within {timeout}s: {process.communicate()[0]}")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM (as Knative sends it), then SIGKILL if it does not exit within 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout:
        process.stdout.close()
