"""The manifests agree with what function/ really serves: port, probe paths, env and model."""

from pathlib import Path, PurePosixPath

import pytest

from function import create_app
from function.config import Settings
from tests.release.manifests.knative_manifests import PHASES, RELEASE, REPO, phase_service

IMAGE_ROOT = PurePosixPath("/app")  # the image bakes the repository's model_data/ here


def serving_container(phase):
    return phase_service(phase)["spec"]["template"]["spec"]["containers"][0]


def pod_settings(phase):
    """The settings the app reads in the pod: the manifest's env plus what Knative sets."""
    service, container = phase_service(phase), serving_container(phase)
    env = {var["name"]: var["value"] for var in container["env"]}
    env["PORT"] = str(container["ports"][0]["containerPort"])
    env["K_REVISION"] = service["spec"]["template"]["metadata"]["name"]
    return Settings.from_env(env)


def in_repo(image_path: Path) -> Path:
    return REPO / PurePosixPath(image_path).relative_to(IMAGE_ROOT)


@pytest.fixture(scope="module", params=PHASES[:2])
def pod(request):
    """The real app, configured as the revision of the phase would be, on the repo's model."""
    settings = pod_settings(request.param)
    app = create_app({"model_path": in_repo(settings.model_path), "revision": settings.revision})
    return request.param, settings, app


def test_the_container_port_is_the_apps_default_port():
    assert {serving_container(p)["ports"][0]["containerPort"] for p in PHASES} == {Settings.port}


def test_host_opens_the_server_to_the_pod_network():
    """The app binds loopback by default, which the kubelet's liveness probe could not reach."""
    assert Settings.host == "127.0.0.1"
    assert {pod_settings(phase).host for phase in PHASES} == {"0.0.0.0"}


@pytest.mark.parametrize("probe", ["readinessProbe", "livenessProbe"])
def test_probe_paths_are_get_routes_of_the_app(pod, probe):
    phase, _, app = pod
    path = serving_container(phase)[probe]["httpGet"]["path"]
    methods = {m for rule in app.url_map.iter_rules() if rule.rule == path for m in rule.methods}
    assert "GET" in methods


def test_the_model_file_of_every_revision_is_in_the_repo():
    for phase in PHASES:
        assert in_repo(pod_settings(phase).model_path).is_file(), phase


def test_the_revision_is_ready_and_serves_the_model_version_its_name_says(pod):
    phase, settings, app = pod
    response = app.test_client().get(serving_container(phase)["readinessProbe"]["httpGet"]["path"])
    assert response.status_code == 200
    assert response.headers["X-Revision"] == settings.revision
    model_version = response.headers["X-Model-Version"]
    assert settings.revision == f"house-price-{model_version}-{RELEASE}"


def test_liveness_answers(pod):
    phase, _, app = pod
    path = serving_container(phase)["livenessProbe"]["httpGet"]["path"]
    assert app.test_client().get(path).status_code == 200


def test_a_missing_model_keeps_the_revision_unready():
    """What Knative's readiness probe relies on to hold traffic from a broken revision."""
    app = create_app({"model_path": REPO / "model_data" / "model-v9.onnx"})
    path = serving_container(PHASES[0])["readinessProbe"]["httpGet"]["path"]
    assert app.test_client().get(path).status_code == 503
