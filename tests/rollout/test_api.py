"""The kubernetes client calls, against the fake Knative API over HTTP on 127.0.0.1."""

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from knative.api import CONFLICT_RETRIES, KnativeService, connect, is_ready
from knative.errors import RolloutError
from tests.rollout.fake_knative_api import FakeKnative
from tests.support.fake_clock import FakeClock

V1, V2 = "house-price-v1", "house-price-v2"
SPLIT = [{"revisionName": V1, "percent": 100, "tag": "blue"}]


@pytest.fixture
def knative():
    with FakeKnative.started(revisions=(V1, V2)) as fake:
        yield fake


@pytest.fixture
def service(knative, tmp_path):
    with connect(knative.kubeconfig(tmp_path / "kubeconfig"), None) as api_client:
        yield KnativeService(api_client, "house-price", "house-price")


def test_reads_the_service_and_its_revisions_oldest_first(knative, service):
    knative.add_service("other", revisions=("other-v1",))
    assert service.get()["metadata"]["resourceVersion"]
    assert [r["metadata"]["name"] for r in service.revisions()] == [V1, V2]
    assert service.revision(V2)["metadata"]["name"] == V2
    assert service.revision("house-price-v9") is None


def test_update_is_one_merge_patch_of_the_whole_list_with_the_resource_version(knative, service):
    seen = []
    updated = service.update(lambda fresh: seen.append(fresh) or {"traffic": SPLIT})
    assert knative.traffic() == SPLIT
    assert len(knative.patches()) == 1
    assert updated["metadata"]["resourceVersion"] != seen[0]["metadata"]["resourceVersion"]
    assert updated["status"]["traffic"][0]["url"] == knative.tag_url("blue", "house-price")


def test_a_conflict_is_re_read_and_retried(knative, service):
    knative.before_patch.append(knative.edit_concurrently)
    seen = []
    service.update(lambda fresh: seen.append(fresh) or {"traffic": SPLIT})
    assert len(knative.patches()) == 2
    assert "someone/else" in seen[1]["metadata"]["annotations"]  # planned on the fresh read
    assert knative.traffic() == SPLIT


def test_conflicts_are_retried_a_bounded_number_of_times(knative, service):
    knative.before_patch += [knative.edit_concurrently] * CONFLICT_RETRIES
    before = knative.traffic()
    with pytest.raises(RolloutError, match="kept changing"):
        service.update(lambda fresh: {"traffic": SPLIT})
    assert len(knative.patches()) == CONFLICT_RETRIES
    assert knative.traffic() == before


@pytest.mark.parametrize("status", [400, 403, 404, 500])
def test_other_api_errors_stop_at_once_with_traffic_unchanged(knative, service, status):
    knative.faults.append(("PATCH", status))
    before = knative.traffic()
    with pytest.raises(RolloutError, match=f"could not patch service: the API answered {status}"):
        service.update(lambda fresh: {"traffic": SPLIT})
    assert len(knative.patches()) == 1
    assert knative.traffic() == before


def test_traffic_knative_rejects_is_reported_with_its_reason(knative, service):
    with pytest.raises(RolloutError, match="422 .*Traffic targets sum to 90, want 100"):
        service.update(lambda fresh: {"traffic": [{"revisionName": V1, "percent": 90}]})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {
                "traffic": [
                    {"revisionName": V1, "percent": 100, "tag": "x"},
                    {"revisionName": V2, "tag": "x"},
                ]
            },
            'Multiple definitions for "x"',
        ),
        ({"template": {"metadata": {"name": "other-v3"}}}, 'must have prefix "house-price-"'),
        ({"template": {"spec": {"containerConcurrency": 1}}}, "without a name change"),
    ],
)
def test_the_fake_denies_what_knative_denies(knative, service, spec, message):
    with pytest.raises(RolloutError, match=f"422 .*{message}"):
        service.update(lambda fresh: spec)
    assert knative.traffic_history == []


def test_a_new_template_name_makes_a_revision_and_the_tag_gets_its_url(knative, service):
    spec = {
        "template": {"metadata": {"name": "house-price-v3"}},
        "traffic": [
            {"revisionName": V1, "percent": 100},
            {"revisionName": "house-price-v3", "tag": "green"},
        ],
    }
    updated = service.update(lambda fresh: spec)
    assert (
        service.revision("house-price-v3")["metadata"]["labels"]["serving.knative.dev/service"]
        == "house-price"
    )
    assert updated["metadata"]["generation"] == 2 == updated["status"]["observedGeneration"]
    assert (
        updated["status"]["traffic"][1]["url"] == "http://green-house-price.house-price.example.com"
    )


def test_the_fake_takes_only_merge_patches(knative, tmp_path):
    with connect(knative.kubeconfig(tmp_path / "kubeconfig"), None) as api_client:
        objects = client.CustomObjectsApi(api_client)
        with pytest.raises(ApiException) as refused:
            objects.patch_namespaced_custom_object(
                "serving.knative.dev",
                "v1",
                "house-price",
                "services",
                "house-price",
                [],
                _content_type="application/json-patch+json",
            )
    assert refused.value.status == 415


def test_a_missing_service_and_a_forbidden_read_say_so(knative, tmp_path):
    with connect(knative.kubeconfig(tmp_path / "kubeconfig"), None) as api_client:
        missing = KnativeService(api_client, "house-price", "nope")
        with pytest.raises(RolloutError, match='404 .*"nope" not found'):
            missing.get()
        knative.faults.append(("GET", 403))
        with pytest.raises(RolloutError, match="could not read revision x: the API answered 403"):
            missing.revision("x")


def test_wait_polls_on_the_injected_clock_until_ready(knative, service):
    knative.reconcile_after = 3
    service.update(lambda fresh: {"traffic": SPLIT})
    clock = FakeClock()
    ready = service.wait(service.get, "service house-price", 60, clock)
    assert is_ready(ready)
    assert clock.sleeps and clock.now < 60


def test_wait_gives_up_after_the_timeout(knative, service):
    knative.reconcile_after = 10_000
    service.update(lambda fresh: {"traffic": SPLIT})
    clock = FakeClock()
    with pytest.raises(RolloutError, match="service house-price is not ready after 10 s"):
        service.wait(service.get, "service house-price", 10, clock)
    assert clock.now >= 10


def test_wait_stops_at_once_when_the_resource_failed(knative, service):
    knative.failing_revisions[V2] = "image pull failed"
    clock = FakeClock()
    with pytest.raises(RolloutError, match="revision failed: image pull failed"):
        service.wait(lambda: service.revision(V2), "revision", 60, clock)
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("generation", "observed", "ready", "expected"),
    [(2, 2, "True", True), (3, 2, "True", False), (2, 2, "False", False), (2, 2, None, False)],
)
def test_ready_means_ready_true_for_the_latest_generation(generation, observed, ready, expected):
    conditions = [{"type": "Ready", "status": ready}] if ready else []
    resource = {
        "metadata": {"generation": generation},
        "status": {"observedGeneration": observed, "conditions": conditions},
    }
    assert is_ready(resource) is expected


def test_kubeconfig_comes_from_the_environment(knative, tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", knative.kubeconfig(tmp_path / "kubeconfig"))
    with connect(None, None) as api_client:
        assert KnativeService(api_client, "house-price", "house-price").get()


def test_no_configuration_at_all_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(RolloutError, match="cannot load the Kubernetes configuration"):
        connect(None, None)
    with pytest.raises(RolloutError, match="cannot load the Kubernetes configuration"):
        connect(str(tmp_path / "missing"), None)
