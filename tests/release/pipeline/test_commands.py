"""What the pipeline runs exists in the repository: make targets, Python modules, their options."""

import re
import shlex
import subprocess

import pytest

from knative.rollout import parser
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
PIPELINE_MODEL_VERSION = "<< pipeline.parameters.model-version >>"


def _make_targets() -> set[str]:
    calls = [shlex.split(c.split("make ", 1)[1]) for c in COMMANDS if c.startswith("make ")]
    return {word for call in calls for word in call if "=" not in word}


def _ci_run_steps() -> set[str]:
    """The steps each ``.ci/run`` call names; none means all of them, lint then test."""
    calls = [c.split(".ci/run", 1)[1].split() for c in COMMANDS if ".ci/run" in c]
    return {step for steps in calls for step in steps or ["lint", "test"]}


def _python_modules() -> set[str]:
    return {m for c in COMMANDS for m in re.findall(r"python -m ([\w.]+)", c)}


def test_the_pipeline_calls_ci_run_make_and_python_modules():
    assert _ci_run_steps() == {"lint", "test"}  # .ci/run runs each as `make <step>`
    assert {"install", "loadtest"} <= _make_targets()
    assert _python_modules() == {"knative.rollout"}


@pytest.mark.parametrize("step", sorted(_ci_run_steps()))
def test_every_ci_run_step_is_a_make_target(step):
    assert step in makefile_targets()


@pytest.mark.parametrize("target", sorted(_make_targets()))
def test_every_make_target_exists(target):
    assert target in makefile_targets()


@pytest.mark.parametrize("module", sorted(_python_modules()))
def test_every_python_module_exists(module):
    path = REPO.joinpath(*module.split("."))
    assert path.with_suffix(".py").is_file() or (path / "__main__.py").is_file()


def _rollout_calls() -> list[list[str]]:
    """The arguments of every rollout call the pipeline makes, pipeline parameters filled in."""
    config = circleci_config()
    entries = workflow_entries(config).values()
    given = [params["command"] for job, params in entries if job == "rollout"]
    model_version = config["parameters"]["model-version"]["default"]
    calls = []
    for command in COMMANDS:
        if match := ROLLOUT.search(command):
            global_options, rest = match.groups()
            for args in given if rest.strip() == "<< parameters.command >>" else [rest]:
                line = global_options + args.replace(PIPELINE_MODEL_VERSION, model_version)
                calls.append(shlex.split(line))
    return calls


def test_rollout_takes_every_call_the_pipeline_makes():
    """The tool's own parser reads each call: every option known, every required one given."""
    calls = _rollout_calls()
    assert sorted(parser().parse_args(call).command for call in calls) == [
        "deploy",
        "doctor",
        "promote",
        "rollback",
        "shift",
    ]


def test_the_pipeline_checks_the_cluster_with_doctor_before_it_deploys():
    steps = circleci_config()["jobs"]["deploy-candidate"]["steps"]
    runs = [step["run"]["command"] for step in steps if isinstance(step, dict) and "run" in step]
    said = [next((c for c in ("doctor", "deploy") if f" {c}" in run), None) for run in runs]
    assert [c for c in said if c][:2] == ["doctor", "deploy"]


def test_the_pipeline_names_the_revision_by_model_and_release():
    (deploy,) = [parser().parse_args(call) for call in _rollout_calls() if "deploy" in call]
    assert deploy.release == "${CIRCLE_SHA1:0:7}"  # the short git sha, as the image tag's start
    assert deploy.image.endswith(":${CIRCLE_SHA1}")


def test_smoke_test_needs_its_two_arguments():
    result = subprocess.run(
        ["bash", str(SMOKE_TEST), "http://127.0.0.1:9"], capture_output=True, text=True, timeout=10
    )
    assert result.returncode != 0 and "usage: smoke-test.sh URL EXPECTED_REVISION" in result.stderr
