"""`make lint` checks every shell script the repository tracks, and says so when it cannot,
rather than check fewer and pass; CI's container has the git it needs for that list."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.release.files import REPO

CI_RUN = REPO / ".ci" / "run"
MAKE = shutil.which("make")


def git_files() -> list[str]:
    result = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True, timeout=30
    )
    return [name for name in result.stdout.decode().split("\0") if name]


def is_shell_script(name: str) -> bool:
    if name.endswith(".sh"):
        return True
    path = REPO / name
    if not path.is_file():
        return False
    with path.open("rb") as file:
        first = file.readline()
    return first.startswith(b"#!") and first.split()[-1] in (
        b"bash",
        b"sh",
        b"/bin/bash",
        b"/bin/sh",
    )


def shellchecked(path: str) -> subprocess.CompletedProcess:
    """`make -n lint` (print, run nothing) with PATH=``path``."""
    return subprocess.run(
        [MAKE, "-n", "lint"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"PATH": path},
        timeout=60,
    )


@pytest.fixture(scope="module")
def linted() -> list[str]:
    result = shellchecked(str(REPO / ".venv" / "bin") + ":/usr/local/bin:/usr/bin:/bin")
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if "/shellcheck " in line]
    return line.split()[1:]


def test_lint_checks_every_shell_script_git_tracks(linted):
    tracked = [name for name in git_files() if is_shell_script(name)]
    assert ".ci/run" in tracked  # a script without the suffix, found by its first line
    assert sorted(set(tracked) - set(linted)) == []
    assert len(tracked) >= 10


def test_without_git_lint_stops_and_says_why(tmp_path):
    (tmp_path / "sh").symlink_to("/bin/sh")  # make's shell, and nothing else on PATH
    result = shellchecked(str(tmp_path))
    assert result.returncode != 0
    assert "make lint: git lists no shell scripts" in result.stderr
    assert "shellcheck" not in result.stdout  # nothing of lint ran, not even in a dry run


def test_ci_installs_git_and_trusts_the_checkout_before_make():
    text = CI_RUN.read_text()
    assert "git:git" in text.split("PACKAGES=(", 1)[1].split(")", 1)[0]
    assert text.index("\ninstall_packages\n") < text.index("\ntrust_checkout\n")
    assert text.index("\ntrust_checkout\n") < text.index('make "$step"')


def test_a_checkout_another_user_owns_is_marked_safe_once_and_no_other(tmp_path):
    """CI runs .ci/run as root in a container on the host's clone: git refuses such a checkout
    ("dubious ownership") unless it is marked safe, and would list nothing. .ci/run's own
    trust_checkout, run in a checkout of another owner (twice) and in one of this user's."""
    text = CI_RUN.read_text()
    function = "trust_checkout() {" + text.split("trust_checkout() {", 1)[1].split("\n}\n", 1)[0]
    if os.geteuid() == 0:
        foreign = tmp_path / "foreign"
        foreign.mkdir()
        os.chown(foreign, 65534, 65534)  # nobody
    else:
        foreign = Path("/")  # root's
    own, home = tmp_path / "own", tmp_path / "home"
    own.mkdir()
    home.mkdir()
    env = {"HOME": str(home), "PATH": os.environ["PATH"]}
    for checkout in (foreign, own, foreign):
        subprocess.run(
            ["bash", "-c", f"set -euo pipefail\n{function}\n}}\ntrust_checkout"],
            cwd=checkout,
            env=env,
            check=True,
            timeout=30,
        )
    marked = subprocess.run(
        ["git", "config", "--global", "--get-all", "safe.directory"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.split()
    assert marked == [str(foreign)]
