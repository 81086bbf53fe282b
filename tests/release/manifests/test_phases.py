"""The phases, applied in order, take traffic from blue to green; render.sh fills the image."""

import re

import pytest
import yaml

from tests.release.manifests.knative_manifests import (
    IMAGE,
    PHASES,
    RELEASE,
    REPO,
    phase_documents,
    phase_service,
    render,
)

BLUE, GREEN = f"house-price-v1-{RELEASE}", f"house-price-v2-{RELEASE}"


def split(phase):
    """{revision: (percent, tag)} of a phase's traffic block."""
    return {
        t["revisionName"]: (t["percent"], t.get("tag"))
        for t in phase_service(phase)["spec"]["traffic"]
    }


def env(service):
    return {
        var["name"]: var["value"]
        for var in service["spec"]["template"]["spec"]["containers"][0]["env"]
    }


def revision(service):
    return service["spec"]["template"]["metadata"]["name"]


def test_blue_starts_alone_with_all_traffic():
    assert split(PHASES[0]) == {BLUE: (100, "blue")}
    assert revision(phase_service(PHASES[0])) == BLUE


def test_green_arrives_at_zero_percent_with_its_own_tag():
    assert split(PHASES[1]) == {BLUE: (100, "blue"), GREEN: (0, "green")}


def test_green_share_only_grows_and_ends_at_100_with_blue_kept_for_rollback():
    green_shares = [split(phase).get(GREEN, (0, None))[0] for phase in PHASES]
    assert green_shares == sorted(green_shares)
    assert split(PHASES[-1]) == {BLUE: (0, "blue"), GREEN: (100, "green")}


@pytest.mark.parametrize("phase", PHASES[2:])
def test_traffic_steps_change_only_traffic(phase):
    """Same template as phase 2, so applying a step creates no new revision."""
    step, green = phase_service(phase), phase_service(PHASES[1])
    assert step["spec"]["template"] == green["spec"]["template"]
    assert {**step, "spec": {}} == {**green, "spec": {}}


@pytest.mark.parametrize("phase", PHASES)
def test_each_revision_serves_the_model_its_name_says(phase):
    service = phase_service(phase)
    version = revision(service).removeprefix("house-price-").removesuffix(f"-{RELEASE}")
    assert env(service)["MODEL_PATH"] == f"/app/model_data/model-{version}.onnx"
    assert env(service)["HOST"] == "0.0.0.0"


@pytest.mark.parametrize("phase", PHASES)
def test_every_phase_brings_its_namespace(phase):
    kinds = {(d["kind"], d["metadata"]["name"]) for d in phase_documents(phase)}
    assert kinds == {("Namespace", "house-price"), ("Service", "house-price")}
    assert phase_service(phase)["metadata"]["namespace"] == "house-price"


def test_render_fills_the_image_and_the_release_and_nothing_else():
    image = "example.com/team/house-price@sha256:" + "a" * 64
    result = render(PHASES[1], image=image, release="0ff1ce5")
    assert result.returncode == 0, result.stderr
    (service,) = [d for d in yaml.safe_load_all(result.stdout) if d["kind"] == "Service"]
    assert service["spec"]["template"]["spec"]["containers"][0]["image"] == image
    assert service["spec"]["template"]["metadata"]["name"] == "house-price-v2-0ff1ce5"
    assert "${" not in result.stdout


@pytest.mark.parametrize("release", [None, "", "1A2B3C4", "sha-", "a" * 41])
def test_render_refuses_a_missing_or_malformed_release(release):
    result = render(PHASES[0], release=release)
    assert result.returncode == 2
    assert "RELEASE must be lowercase letters, digits and '-'" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("image", [None, "", "has space:1"])
def test_render_refuses_a_missing_or_malformed_image(image):
    result = render(PHASES[0], image=image)
    assert result.returncode == 2
    assert "IMAGE must name the predictor image" in result.stderr
    assert result.stdout == ""


def test_render_names_the_phases_when_given_an_unknown_one():
    result = render("6-green-200")
    assert result.returncode == 2
    assert all(phase in result.stderr for phase in PHASES)


def test_no_manifest_holds_an_account_id_or_a_registry():
    texts = [p.read_text() for p in (REPO / "knative").rglob("*.yaml")]
    texts += [p.read_text() for p in (REPO / "cluster").glob("*") if p.suffix != ".md"]
    # A registry only as a template that envsubst fills in (cluster/config-deployment.yaml).
    assert not [t for t in texts if re.search(r"\b\d{12}\b|[\w-]\.dkr\.ecr\.", t)]
    arns = [arn for t in texts for arn in re.findall(r"arn:aws:[^\s\"]+", t)]
    assert arns, "the IAM files and the access entry name ARNs"
    assert all(arn.split(":")[4] in ("", "${AWS_ACCOUNT_ID}") for arn in arns), arns
    assert all(IMAGE not in t for t in texts)
