"""podman as image/podman.sh sets it up, for the image tests."""

import subprocess

from tests.support.repo import REPO


def podman(*args: str, stderr=subprocess.PIPE) -> str:
    """Run podman as image/podman.sh sets it up; its stdout (and stderr, if STDOUT is given)."""
    command = [REPO / "image" / "podman.sh", *args]
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=stderr, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout
