"""Real server processes for the shutdown tests: each in a session of its own (so that a test
can signal its whole process group), and killed whole, worker included, if it hangs."""

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from loadtest.local_server import REPO, free_port


def start(**env):
    """``python -m function`` on a free port; (process, base URL)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "function"],
        cwd=REPO,
        env={**os.environ, "HOST": "127.0.0.1", "PORT": str(port), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    return process, f"http://127.0.0.1:{port}"


def handles_sigterm(pid):
    """Whether the process has a SIGTERM handler yet (it stops taking the default action)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) & (1 << (signal.SIGTERM - 1)))


def finish(process, seconds):
    """(exit code, output); the code is None if the server was still running after ``seconds``
    (it is then killed, worker included)."""
    try:
        code = process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        kill_tree(process)
        code = None
    with process.stdout:
        return code, process.stdout.read()


def kill_tree(process):
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    workers = children.read_text().split() if children.exists() else []
    for pid in [process.pid, *map(int, workers)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait()
