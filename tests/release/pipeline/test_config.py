"""The CircleCI config: its jobs exist, run in the release order, ship from main only, via OIDC."""

import re

import pytest

from tests.release.files import CIRCLECI_CONFIG, REPO, circleci_config, required, workflow_entries

RELEASE_ORDER = [
    "lint",
    "test",
    "build-and-push",
    "deploy-candidate",
    "smoke-test",
    "load-gate",
    "shift",
    "promote",
]
JOB_STATUSES = {"success", "failed", "canceled", "not_run", "terminal"}


@pytest.fixture(scope="module")
def config():
    return circleci_config()


@pytest.fixture(scope="module")
def entries(config):
    return workflow_entries(config)


def test_every_job_a_workflow_names_is_defined(config, entries):
    for name, (job, _params) in entries.items():
        orb, _, orb_job = job.partition("/")
        assert job in config["jobs"] or (orb_job and orb in config["orbs"]), name


def test_requires_name_jobs_of_the_same_workflow(entries):
    for name, (_job, params) in entries.items():
        for needed, statuses in required(params).items():
            assert needed in entries, f"{name} requires unknown {needed}"
            assert set(statuses) <= JOB_STATUSES, f"{name}: {statuses}"


def test_release_runs_in_order(entries):
    """Each step waits for the success of the one before it, from lint to promote."""
    chain, name = [], "promote"
    while name:
        chain.append(name)
        succeeded = [job for job, st in required(entries[name][1]).items() if st == ["success"]]
        assert len(succeeded) <= 1, name
        name = succeeded[0] if succeeded else None
    assert chain[::-1] == RELEASE_ORDER


def test_only_main_ships(entries):
    for name, (_job, params) in entries.items():
        if name not in ("lint", "test"):
            assert params.get("filters") == {"branches": {"only": "main"}}, name
    assert "filters" not in entries["lint"][1] and "filters" not in entries["test"][1]


def _uses_aws(config, job, params) -> bool:
    if "auth" in params:  # an orb job authenticating with aws-cli/setup
        return True
    steps = config["jobs"].get(job, {}).get("steps", [])
    return any(isinstance(s, str) and s == "cluster-access" for s in steps)


def test_aws_access_comes_from_oidc_not_stored_keys(config, entries):
    text = CIRCLECI_CONFIG.read_text()
    assert "AWS_ACCESS_KEY_ID" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    setups = re.findall(r"aws-cli/setup:\n\s+role_arn: \$\{AWS_ROLE_ARN\}", text)
    assert len(setups) == text.count("aws-cli/setup") == 2
    aws_jobs = [name for name, (job, p) in entries.items() if _uses_aws(config, job, p)]
    assert set(aws_jobs) == {"build-and-push", "deploy-candidate", "shift", "promote", "rollback"}
    for name in aws_jobs:  # CircleCI issues the OIDC token only to jobs that use a context
        assert entries[name][1].get("context"), name


def test_image_is_tagged_with_the_git_sha_and_the_revision_named_by_the_model(config, entries):
    build = entries["build-and-push"][1]
    assert build["tag"] == "${CIRCLE_SHA1}"
    version = "<< pipeline.parameters.model-version >>"
    assert build["extra_build_args"] == f"--build-arg MODEL_VERSION={version}"
    deploy = "\n".join(
        s["run"]["command"]
        for s in config["jobs"]["deploy-candidate"]["steps"]
        if isinstance(s, dict) and "run" in s
    )
    assert ':${CIRCLE_SHA1}"' in deploy and f"--model-version {version}" in deploy
    assert entries["shift"][1]["command"] == f"shift --to house-price-v{version}"


def test_default_model_version_exists_in_model_data(config):
    version = config["parameters"]["model-version"]["default"]
    for suffix in ("onnx", "json"):
        assert (REPO / "model_data" / f"model-v{version}.{suffix}").is_file()


def test_a_failure_after_deploy_runs_rollback(entries):
    job, params = entries["rollback"]
    assert (job, params["command"]) == ("rollout", "rollback")
    needs = required(params)
    assert "success" in needs["deploy-candidate"]
    assert {"failed", "not_run"} <= set(needs["promote"]) and "success" not in needs["promote"]


def test_readme_lists_every_variable_the_pipeline_reads(config):
    text = CIRCLECI_CONFIG.read_text()
    used = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", text))
    set_here = {*config["executors"]["python"]["environment"], "PYTEST_ADDOPTS"}
    needed = {v for v in used - set_here if not v.startswith("CIRCLE_")}
    assert {"AWS_ROLE_ARN", "AWS_DEFAULT_REGION", "ECR_REPOSITORY"} <= needed
    readme = (CIRCLECI_CONFIG.parent / "README.md").read_text()
    assert [v for v in sorted(needed) if f"`{v}`" not in readme] == []
