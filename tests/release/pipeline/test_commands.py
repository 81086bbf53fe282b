"""What the pipeline runs exists in the repository: make targets, Python modules, their options."""

import re
import shlex
import subprocess
import sys

import pytest

from tests.release.files import (
    REPO,
    SMOKE_TEST,
    circleci_config,
    makefile_targets,
    run_commands,
    workflow_entries,
)

COMMANDS = run_commands(circleci_config())
ROLLOUT = re.compile(r"python -m knative\.rollout ((?:-[ns] \S+ )*)(.+)", re.DOTALL)


def _make_targets() -> set[str]:
    calls = [shlex.split(c.split("make ", 1)[1]) for c in COMMANDS if c.startswith("make ")]
    return {word for call in calls for word in call if "=" not in word}


def _python_modules() -> set[str]:
    return {m for c in COMMANDS for m in re.findall(r"python -m ([\w.]+)", c)}


def test_the_pipeline_calls_make_and_python_modules():
    assert {"lint", "test", "loadtest"} <= _make_targets()
    assert _python_modules() == {"knative.rollout"}


@pytest.mark.parametrize("target", sorted(_make_targets()))
def test_every_make_target_exists(target):
    assert target in makefile_targets()


@pytest.mark.parametrize("module", sorted(_python_modules()))
def test_every_python_module_exists(module):
    path = REPO.joinpath(*module.split("."))
    assert path.with_suffix(".py").is_file() or (path / "__main__.py").is_file()


def _rollout_calls() -> list[tuple[list[str], list[str]]]:
    """(global options, subcommand and its arguments) of every rollout call the pipeline makes."""
    entries = workflow_entries(circleci_config()).values()
    given = [params["command"] for job, params in entries if job == "rollout"]
    calls = []
    for command in COMMANDS:
        if match := ROLLOUT.search(command):
            global_options, rest = match.groups()
            for args in given if rest.strip() == "<< parameters.command >>" else [rest]:
                calls.append((global_options.split()[::2], args.split()))
    return calls


def _rollout_help(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "knative.rollout", *args, "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_rollout_accepts_the_options_the_pipeline_gives():
    calls = _rollout_calls()
    assert sorted(args[0] for _, args in calls) == ["deploy", "promote", "rollback", "shift"]
    top = _rollout_help()
    for global_options, (subcommand, *args) in calls:
        assert all(re.search(rf"(?<![\w-]){o}\b", top) for o in global_options), top
        usage = _rollout_help(subcommand)
        assert [o for o in args if o.startswith("--") and o not in usage] == [], subcommand


def test_smoke_test_needs_its_two_arguments():
    result = subprocess.run(
        ["bash", str(SMOKE_TEST), "http://127.0.0.1:9"], capture_output=True, text=True, timeout=10
    )
    assert result.returncode != 0 and "usage: smoke-test.sh URL EXPECTED_REVISION" in result.stderr
