"""The Dockerfile: pinned slim base, runtime deps only, non-root, exec-form server."""

import re

import pytest

from tests.release.files import (
    REPO,
    context_copy_sources,
    dockerfile,
    entrypoint,
    instruction_values,
    runtime_stage,
)


@pytest.fixture(scope="module")
def parser():
    return dockerfile()


@pytest.fixture(scope="module")
def runtime(parser):
    return runtime_stage(parser)


def test_every_stage_is_a_pinned_slim_official_python(parser):
    assert parser.is_multistage and len(parser.parent_images) == 2
    for image in parser.parent_images:
        assert re.fullmatch(r"python:3\.\d+\.\d+-slim-[a-z]+", image), image


def test_runtime_runs_the_server_as_make_run_does_without_a_shell(runtime):
    assert entrypoint(runtime) == ["python", "-m", "function"]
    assert instruction_values(runtime, "CMD") == []


def test_runtime_runs_as_a_numeric_non_root_user(runtime):
    (user,) = instruction_values(runtime, "USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) > 0 and (not gid or gid.isdigit())


def test_runtime_listens_on_all_interfaces_on_the_port_knative_sets(parser):
    assert parser.envs["HOST"] == "0.0.0.0"
    assert "PORT" not in parser.envs
    assert parser.envs["PATH"].startswith("/opt/venv/bin:")
    assert parser.envs["MODEL_PATH"] == "model_data/model-v1.onnx"


def test_only_the_runtime_requirements_are_installed(parser, runtime):
    installs = [run for run in instruction_values(parser.structure, "RUN") if "install" in run]
    assert len(installs) == 1 and "requirements.txt" in installs[0]
    assert "requirements-dev" not in (REPO / "Dockerfile").read_text()
    assert [run for run in instruction_values(runtime, "RUN") if "install" in run] == []


def test_runtime_copies_the_package_and_every_model_as_onnx_with_its_card(runtime):
    sources = context_copy_sources(runtime)
    assert sources[0] == "function/" and (REPO / "function" / "__main__.py").is_file()
    copied = {path.name for source in sources[1:] for path in REPO.glob(source)}
    trained = [path.stem for path in (REPO / "model_data").glob("model-v*.joblib")]
    assert trained, "no trained model in model_data/"
    assert {f"{stem}.{suffix}" for stem in trained for suffix in ("onnx", "json")} <= copied
    assert not [name for name in copied if name.endswith((".joblib", ".csv"))]


def test_dockerignore_lets_in_exactly_what_the_dockerfile_copies(parser):
    lines = (REPO / ".dockerignore").read_text().splitlines()
    patterns = [line for line in lines if line and not line.startswith("#")]
    assert patterns[0] == "*"
    let_in = [p.removeprefix("!") for p in patterns if p.startswith("!")]
    assert sorted(let_in) == sorted(context_copy_sources(parser.structure))
