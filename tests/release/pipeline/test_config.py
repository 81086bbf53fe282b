"""The CircleCI config: its jobs exist, run in the release order, ship from main only, via OIDC,
one release at a time, on pinned images, orbs and tools."""

import re

import pytest
import yaml

from tests.release.files import CIRCLECI_CONFIG, REPO, circleci_config, required, workflow_entries

RELEASE_ORDER = [
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
        if name != "test":
            assert params.get("filters") == {"branches": {"only": "main"}}, name
    assert "filters" not in entries["test"][1]


def test_ci_runs_what_a_laptop_runs(config):
    steps = config["jobs"]["test"]["steps"]
    runs = [s["run"] for s in steps if isinstance(s, dict) and "run" in s]
    [run] = runs
    # .ci/run with no step runs lint, then test; as root in a pinned Debian, as on a laptop.
    assert run["command"].endswith(" bash .ci/run")
    assert re.search(r" debian:bookworm-\d{8} ", run["command"])
    assert "--env PYTEST_ADDOPTS" in run["command"]
    assert "--junitxml=test-results/" in run["environment"]["PYTEST_ADDOPTS"]
    assert {"store_test_results": {"path": "test-results"}} in steps
    assert "kubectl" in steps  # what .ci/run checks for but cannot get from a package registry


def _setups(node) -> list[dict]:
    """The parameters of every aws-cli/setup step anywhere in the config."""
    if isinstance(node, list):
        return [found for item in node for found in _setups(item)]
    if not isinstance(node, dict):
        return []
    here = [node["aws-cli/setup"]] if "aws-cli/setup" in node else []
    return here + [found for value in node.values() for found in _setups(value)]


def _uses_aws(config, job, params) -> bool:
    if "auth" in params:  # an orb job authenticating with aws-cli/setup
        return True
    steps = config["jobs"].get(job, {}).get("steps", [])
    return any(isinstance(s, str) and s == "cluster-access" for s in steps)


def test_aws_access_comes_from_oidc_not_stored_keys(config, entries):
    text = CIRCLECI_CONFIG.read_text()
    assert "AWS_ACCESS_KEY_ID" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    setups = _setups(config)
    assert len(setups) == 2 and all(s["role_arn"] == "${AWS_ROLE_ARN}" for s in setups)
    assert all(re.fullmatch(r"2\.\d+\.\d+", s["version"]) for s in setups), "pin the AWS CLI"
    aws_jobs = [name for name, (job, p) in entries.items() if _uses_aws(config, job, p)]
    assert set(aws_jobs) == {"build-and-push", "deploy-candidate", "shift", "promote", "rollback"}
    for name in aws_jobs:  # CircleCI issues the OIDC token only to jobs that use a context
        assert entries[name][1].get("context"), name


def test_one_release_at_a_time(entries):
    """From deploy to rollback every job is in one serial group, across pipelines."""
    groups = {name: params.get("serial-group") for name, (_job, params) in entries.items()}
    assert groups.pop("test") is None and groups.pop("build-and-push") is None
    assert set(groups) == {*RELEASE_ORDER[2:], "rollback"}
    assert len(set(groups.values())) == 1
    assert "<< pipeline.project.slug >>" in groups["deploy-candidate"]


def test_images_orbs_and_kubectl_are_pinned(config, entries):
    images = [config["executors"]["ubuntu"]["machine"]["image"]]
    images.append(entries["build-and-push"][1]["executor"]["image"])
    assert all(re.fullmatch(r"ubuntu-\d{4}:\d{4}\.\d{2}\.\d+", image) for image in images), images
    assert all(
        re.fullmatch(r"circleci/[\w-]+@\d+\.\d+\.\d+", orb) for orb in config["orbs"].values()
    )
    assert "circleci/kubernetes" not in CIRCLECI_CONFIG.read_text()  # its kubectl bucket is frozen
    kubectl = config["commands"]["kubectl"]["parameters"]
    cluster = yaml.safe_load((REPO / "cluster" / "eks-cluster.yaml").read_text())
    minor = cluster["metadata"]["version"]
    assert re.fullmatch(rf"v{re.escape(minor)}\.\d+", kubectl["version"]["default"])
    assert re.fullmatch(r"[0-9a-f]{64}", kubectl["sha256"]["default"])
    (install,) = config["commands"]["kubectl"]["steps"]
    assert "sha256sum --check" in install["run"]["command"]


def test_the_image_is_tagged_with_the_git_sha_and_the_revision_by_model_and_release(
    config, entries
):
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
    assert '--release "${CIRCLE_SHA1:0:7}"' in deploy
    # Later jobs take the revision deploy-candidate found tagged green, never a name of their own.
    assert "release/green-${field}" in deploy and "revisionName url" in deploy
    assert entries["shift"][1]["command"].startswith(
        'shift --to "$(cat release/green-revisionName)" '
    )
    assert entries["shift"][1]["candidate"] is True
    assert (
        "release/green-revisionName" in config["jobs"]["smoke-test"]["steps"][-1]["run"]["command"]
    )


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
    set_here = {*config["executors"]["ubuntu"]["environment"], "PYTEST_ADDOPTS"}
    needed = {v for v in used - set_here if not v.startswith("CIRCLE_")}
    assert {"AWS_ROLE_ARN", "AWS_DEFAULT_REGION", "ECR_REPOSITORY"} <= needed
    readme = (CIRCLECI_CONFIG.parent / "README.md").read_text()
    assert [v for v in sorted(needed) if f"`{v}`" not in readme] == []


def test_shift_and_promote_gate_on_the_clusters_prometheus_and_keep_their_reports(config, entries):
    install = (REPO / "cluster" / "install-prometheus.sh").read_text()
    release = re.search(r"helm upgrade --install (\S+) ", install)[1]
    rollout = config["jobs"]["rollout"]["steps"]
    (forward,) = [
        s["when"]["steps"]
        for s in rollout
        if isinstance(s, dict)
        and s.get("when", {}).get("condition") == "<< parameters.prometheus >>"
    ]
    command = forward[0]["run"]["command"]
    assert f"--namespace monitoring svc/{release}-prometheus 9090:9090" in command
    for name in ("shift", "promote"):
        params = entries[name][1]
        assert params["prometheus"] is True
        assert params["command"].endswith("--prometheus-url http://127.0.0.1:9090")
    assert "prometheus" not in entries["rollback"][1]  # a rollback never waits for Prometheus
    assert {"store_artifacts": {"path": "reports", "destination": "rollout"}} in rollout
