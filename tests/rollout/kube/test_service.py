"""The kubernetes client calls, against the fake Knative API over HTTP on 127.0.0.1."""

import copy

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from knative.errors import RolloutError
from knative.kube.calls import connect
from knative.kube.service import CONFLICT_RETRIES, KnativeService
from knative.kube.waiting import State, is_ready, pods_state, state_of
from tests.rollout.fake_knative_conditions import container_exits
from tests.support.fake_clock import FakeClock

V1, V2, V3 = "house-price-v1", "house-price-v2", "house-price-v3"
SPLIT = [{"revisionName": V1, "percent": 100, "tag": "blue"}]


def test_reads_the_service_and_its_revisions_oldest_first(knative, service):
    knative.add_service("other", revisions=("other-v1",))
    assert service.get()["metadata"]["resourceVersion"]
    assert [r["metadata"]["name"] for r in service.revisions()] == [V1, V2]
    assert service.revision(V2)["metadata"]["name"] == V2
    assert service.revision("house-price-v9") is None


def test_update_is_one_merge_patch_of_the_whole_list_with_the_resource_version(
    knative, service, unchecked
):
    seen = []
    updated = service.update(lambda fresh: seen.append(fresh) or {"traffic": SPLIT}, unchecked)
    assert knative.traffic() == SPLIT
    assert len(knative.patches()) == 1
    assert updated["metadata"]["resourceVersion"] != seen[0]["metadata"]["resourceVersion"]
    assert updated["status"]["traffic"][0]["url"] == knative.tag_url("blue", "house-price")


def test_a_conflict_is_re_read_and_retried(knative, service, unchecked):
    knative.before_patch.append(knative.edit_concurrently)
    seen = []
    service.update(lambda fresh: seen.append(fresh) or {"traffic": SPLIT}, unchecked)
    assert len(knative.patches()) == 2
    assert "someone/else" in seen[1]["metadata"]["annotations"]  # planned on the fresh read
    assert knative.traffic() == SPLIT


def test_conflicts_are_retried_a_bounded_number_of_times(knative, service, unchecked):
    knative.before_patch += [knative.edit_concurrently] * CONFLICT_RETRIES
    before = knative.traffic()
    with pytest.raises(RolloutError, match="kept changing"):
        service.update(lambda fresh: {"traffic": SPLIT}, unchecked)
    assert len(knative.patches()) == CONFLICT_RETRIES
    assert knative.traffic() == before


@pytest.mark.parametrize("status", [400, 403, 404, 422])
def test_other_api_errors_stop_at_once_with_traffic_unchanged(knative, service, status, unchecked):
    knative.fail("PATCH", status)
    before = knative.traffic()
    with pytest.raises(RolloutError, match=f"could not patch service: the API answered {status}"):
        service.update(lambda fresh: {"traffic": SPLIT}, unchecked)
    assert len(knative.patches()) == 1
    assert knative.traffic() == before


def test_traffic_knative_rejects_is_reported_with_its_reason(knative, service, unchecked):
    denied = "400 Bad Request: admission webhook .* denied the request: validation failed: "
    with pytest.raises(RolloutError, match=denied + "spec.traffic: Traffic targets sum to 90"):
        service.update(lambda fresh: {"traffic": [{"revisionName": V1, "percent": 90}]}, unchecked)


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
        (
            {
                "template": {
                    "metadata": {"annotations": {"autoscaling.knative.dev/max-scale": "99"}}
                }
            },
            "max-scale: 99 must be 1..12",  # our cluster's max-scale-limit
        ),
    ],
)
def test_the_fake_denies_what_knative_denies(knative, service, spec, message, unchecked):
    with pytest.raises(RolloutError, match=f"400 Bad Request: admission webhook .*{message}"):
        service.update(lambda fresh: spec, unchecked)
    assert knative.traffic_history == []


def test_a_template_change_under_the_same_revision_name_is_denied_in_knatives_words(
    knative, service, unchecked
):
    def new_image(fresh):
        containers = fresh["spec"]["template"]["spec"]["containers"]
        containers[0]["image"] = "registry.example.com/house-price:2.0"
        return {"template": {"spec": {"containers": containers}}}

    with pytest.raises(RolloutError) as denied:
        service.update(new_image, unchecked)
    message = str(denied.value)
    assert "400 Bad Request" in message
    assert (
        "validation failed: Saw the following changes without a name change (-old +new): "
        "spec.template.metadata.name\n" in message
    )
    changed = [line.split() for line in message.splitlines() if line[:1] in "-+"]
    assert changed == [
        ["-", '"image":', '"registry.example.com/house-price:1.0",'],
        ["+", '"image":', '"registry.example.com/house-price:2.0",'],
    ]
    assert list(knative.revisions) == [V1, V2] and knative.traffic_history == []


def test_an_earlier_revisions_name_with_another_template_is_taken(knative, service, unchecked):
    """Knative's controller, not its webhook, refuses this one: the Service stops being Ready."""
    before = knative.observe(knative.services["house-price"])["status"]["traffic"]

    def back_to_v1_with_a_new_image(fresh):
        template = fresh["spec"]["template"]
        template["spec"]["containers"][0]["image"] = "registry.example.com/house-price:2.0"
        return {"template": template | {"metadata": {"name": V1}}}

    updated = service.update(back_to_v1_with_a_new_image, unchecked)
    (condition,) = updated["status"]["conditions"]
    assert (condition["status"], condition["reason"]) == ("False", "RevisionNameTaken")
    assert condition["message"] == (
        f'The revision name "{V1}" is taken by a conflicting Revision, '
        "so traffic will not be migrated"
    )
    assert updated["status"]["traffic"] == before
    assert knative.revisions[V1]["spec"]["containers"][0]["image"].endswith(":1.0")


def test_a_taken_name_ends_the_wait_at_once_though_every_revision_is_ready(
    knative, service, unchecked
):
    def back_to_v1_with_a_new_image(fresh):
        template = fresh["spec"]["template"]
        template["spec"]["containers"][0]["image"] = "registry.example.com/house-price:2.0"
        return {"template": template | {"metadata": {"name": V1}}}

    service.update(back_to_v1_with_a_new_image, unchecked)
    clock = FakeClock()
    with pytest.raises(RolloutError, match="service house-price failed: The revision name"):
        service.wait(service.get, "service house-price", 60, clock)
    assert clock.sleeps == []


def test_a_status_of_an_earlier_spec_is_waited_past_not_judged(knative, service, unchecked):
    knative.failing_revisions[V2] = container_exits("model not found")  # the latest created
    knative.reconcile_after = 3  # the controller is behind for 3 requests

    def new_revision(fresh):
        return {"template": fresh["spec"]["template"] | {"metadata": {"name": V3}}}

    service.update(new_revision, unchecked)
    ready = service.wait(service.get, "service house-price", 60, FakeClock())
    assert ready["status"]["latestCreatedRevisionName"] == V3


def test_a_dry_run_is_judged_and_answered_but_changes_nothing(knative, service):
    before = copy.deepcopy(knative.services["house-price"])
    spec = {"template": {"metadata": {"name": "house-price-v3"}}, "traffic": SPLIT}
    answer = service.dry_run(lambda fresh: spec)
    assert answer["spec"]["template"]["metadata"]["name"] == "house-price-v3"
    assert answer["metadata"]["generation"] == before["metadata"]["generation"] + 1
    assert knative.services["house-price"] == before
    assert "house-price-v3" not in knative.revisions and knative.traffic_history == []
    assert knative.dry_runs() and knative.patches() == []
    with pytest.raises(RolloutError, match="could not check the patch .* Traffic targets sum"):
        service.dry_run(lambda fresh: {"traffic": [{"revisionName": V1, "percent": 1}]})


def test_a_dry_run_of_a_stale_version_is_re_read_and_judged_again(knative, service):
    seen = []

    def change(fresh):
        if not seen:
            knative.edit_concurrently()  # between this read and the dry run
        seen.append(fresh)
        return {"traffic": SPLIT}

    service.dry_run(change)
    assert len(knative.dry_runs()) == 2 and knative.patches() == []
    assert "someone/else" in seen[1]["metadata"]["annotations"]


def test_an_unknown_dry_run_value_is_a_bad_request(knative, tmp_path):
    with connect(knative.kubeconfig(tmp_path / "kubeconfig"), None) as api_client:
        objects = client.CustomObjectsApi(api_client)
        with pytest.raises(ApiException) as refused:
            objects.patch_namespaced_custom_object(
                *("serving.knative.dev", "v1", "house-price", "services", "house-price"),
                {"spec": {"traffic": SPLIT}},
                dry_run="Some",
                _content_type="application/merge-patch+json",
            )
    assert refused.value.status == 400 and "Unsupported value" in refused.value.body
    assert knative.traffic_history == []


def test_a_new_template_name_makes_a_revision_and_the_tag_gets_its_url(knative, service, unchecked):
    spec = {
        "template": {"metadata": {"name": "house-price-v3"}},
        "traffic": [
            {"revisionName": V1, "percent": 100},
            {"revisionName": "house-price-v3", "tag": "green"},
        ],
    }
    updated = service.update(lambda fresh: spec, unchecked)
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
        knative.fail("GET", 403, on="revisions")
        with pytest.raises(RolloutError, match="could not read revision x: the API answered 403"):
            missing.revision("x")


def test_wait_polls_on_the_injected_clock_until_ready(knative, service, unchecked):
    knative.reconcile_after = 3
    service.update(lambda fresh: {"traffic": SPLIT}, unchecked)
    clock = FakeClock()
    ready = service.wait(service.get, "service house-price", 60, clock)
    assert is_ready(ready)
    assert clock.sleeps and clock.now < 60


def test_wait_gives_up_after_the_timeout(knative, service, unchecked):
    knative.reconcile_after = 10_000
    service.update(lambda fresh: {"traffic": SPLIT}, unchecked)
    clock = FakeClock()
    with pytest.raises(RolloutError, match="service house-price is not ready after 10 s"):
        service.wait(service.get, "service house-price", 10, clock)
    assert clock.now >= 10


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


def _pod(*containers: tuple[str, str]) -> client.V1Pod:
    """A pod whose containers (name, waiting reason) wait, as the kubelet reports them."""
    statuses = [
        client.V1ContainerStatus(
            name=name,
            image="registry.example.com/hp:bbbbbbb",
            image_id="",
            ready=False,
            restart_count=0,
            state=client.V1ContainerState(
                waiting=client.V1ContainerStateWaiting(reason=reason, message="the kubelet says")
            ),
        )
        for name, reason in containers
    ]
    return client.V1Pod(status=client.V1PodStatus(container_statuses=statuses))


def test_a_pods_state_is_its_user_containers_and_a_final_reason_comes_first():
    assert pods_state([_pod(("queue-proxy", "ImagePullBackOff"))]) is None  # Knative's sidecar
    assert pods_state([_pod(("user-container", "ContainerCreating"))]) is None
    assert pods_state([_pod(("user-container", "ErrImagePull"))]).failed is False  # retried
    either = [
        _pod(("user-container", "ErrImagePull")),
        _pod(("user-container", "InvalidImageName")),
    ]
    state = pods_state(either)
    assert (state.failed, state.reason) == (True, "InvalidImageName")
    assert state.message == (
        'image "registry.example.com/hp:bbbbbbb" is not a valid image name: the kubelet says'
    )


def test_a_pod_the_scheduler_has_not_placed_is_judged_as_when_knative_copies_it():
    def unscheduled(reason: str) -> client.V1Pod:
        scheduled = client.V1PodCondition(
            type="PodScheduled", status="False", reason=reason, message="0/3 nodes are available"
        )
        return client.V1Pod(status=client.V1PodStatus(conditions=[scheduled]))

    for reason in ("Unschedulable", "SchedulingGated"):
        state = pods_state([unscheduled(reason)])
        assert state == State(False, False, reason, "0/3 nodes are available")
        revision = {
            "metadata": {"generation": 1},
            "status": {
                "observedGeneration": 1,
                "conditions": [
                    {"type": "Ready", "status": "False", "reason": reason}
                    | {"message": "0/3 nodes are available"}
                ],
            },
        }
        assert state_of(revision) == state  # the same state, so the same line
    assert pods_state([unscheduled("SchedulerError")]).failed is True  # as Knative's copy is
    waiting_and_stuck = [unscheduled("Unschedulable"), _pod(("user-container", "InvalidImageName"))]
    assert pods_state(waiting_and_stuck).reason == "InvalidImageName"  # a failed one first


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
