"""A pod that will not start is found by its pods, not at Knative's progress deadline: while a
revision is not Ready the waits read its pods too, and a user container waiting for a reason
that will not pass stops the wait with the kubelet's own message, traffic as it was. Knative
1.23 says only "Deploying" meanwhile (``fake_knative_conditions.deploying``); the fake API's
pods carry the kubelet's reasons and messages (``fake_knative_conditions.pull_error``)."""

import pytest

from knative.kube.waiting import RETRY_SECONDS
from knative.traffic.plan import parse_traffic
from tests.rollout.fake_knative_conditions import NO_NODE, deploying, pull_error, unschedulable
from tests.rollout.fake_knative_serving import IMAGE as FAKE_IMAGE
from tests.rollout.shared import DEPLOY, NEW, NEW_IMAGE, V1, V2, percents, pod_is_always_schedulable

GATE = ["--probe-requests", "5"]
NOT_FOUND = (
    f'rpc error: code = NotFound desc = failed to pull and unpack image "{NEW_IMAGE}": failed to '
    f'resolve reference "{NEW_IMAGE}": {NEW_IMAGE}: not found'
)
FOREVER = 10**6  # ticks: longer than any wait here
FORBIDDEN = "may not list pods in house-price (403 Forbidden): judging by Knative's conditions"


@pytest.mark.parametrize(
    ("waiting", "said"),
    [
        (
            pull_error(NEW_IMAGE),
            f'image "{NEW_IMAGE}" cannot be pulled: Back-off pulling image "{NEW_IMAGE}": '
            + "ErrImagePull: "
            + NOT_FOUND,
        ),
        (
            # kubelet image_manager.go EnsureImageExists: applyDefaultImageTag failed
            ("InvalidImageName", 'Failed to apply default image tag "hp:B": couldn\'t parse ...'),
            f'image "{NEW_IMAGE}" is not a valid image name: Failed to apply default image tag',
        ),
        (
            ("ErrImageNeverPull", f'Container image "{NEW_IMAGE}" is not present with pull policy'),
            f'image "{NEW_IMAGE}" is not on the node and may not be pulled: Container image',
        ),
        (
            ("CreateContainerConfigError", 'secret "house-price-model" not found'),
            'container user-container cannot be configured: secret "house-price-model" not found',
        ),
    ],
    ids=["ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "CreateContainerConfigError"],
)
def test_a_pod_that_will_not_start_stops_the_deploy_at_once_with_the_kubelets_words(
    fresh, capsys, waiting, said
):
    fake, rollout = fresh
    fake.story(NEW, (4, deploying(("ContainerCreating", ""))), (FOREVER, deploying(waiting)))
    assert rollout(*DEPLOY) == 2
    err = capsys.readouterr().err
    assert f"revision {NEW} failed: {said}" in err
    assert f"{NEW} has 0 %, traffic is as it was" in err
    assert rollout.clock.now < 10  # seconds, not Knative's 600 s progress deadline
    assert parse_traffic(fake.traffic(), None).percents == {V1: 100, NEW: 0}


@pytest.mark.parametrize(
    ("waiting", "line"),
    [
        (
            pull_error(NEW_IMAGE, "ErrImagePull"),
            "image pull failing for 0 s, the kubelet tries again",
        ),
        (
            ("CreateContainerError", "context deadline exceeded"),
            "container creation failing for 0 s, the kubelet tries again",
        ),
    ],
    ids=["ErrImagePull", "CreateContainerError"],
)
def test_a_failed_attempt_the_kubelet_repeats_stops_once_it_lasts(fresh, capsys, waiting, line):
    fake, rollout = fresh
    fake.story(NEW, (FOREVER, deploying(waiting)))
    assert rollout(*DEPLOY) == 2
    out, err = capsys.readouterr()
    assert f"revision {NEW}: {line}" in out
    assert f"revision {NEW} failed: " in err and waiting[1] in err
    assert RETRY_SECONDS <= rollout.clock.now < RETRY_SECONDS + 10


def test_an_image_pull_that_fails_once_and_then_succeeds_is_waited_through(fresh, capsys):
    fake, rollout = fresh
    hiccup = "rpc error: code = Unavailable desc = 503 Service Unavailable"
    fake.story(NEW, (6, deploying(pull_error(NEW_IMAGE, "ErrImagePull", hiccup))))
    assert rollout(*DEPLOY) == 0
    assert f"revision {NEW}: image pull failing for 0 s" in capsys.readouterr().out


def test_a_pod_pulling_slowly_is_waited_for(fresh, green_route, blue_route, capsys):
    fake, rollout = fresh
    fake.tag_urls |= {"green": green_route.url, "blue": blue_route.url}
    fake.story(
        NEW,
        (30, deploying(("ContainerCreating", ""))),  # the ~380 MB image is being pulled
        (20, deploying(("PodInitializing", ""))),
    )
    assert rollout(*DEPLOY) == 0
    assert f"revision {NEW} is ready" in capsys.readouterr().out
    assert rollout.clock.now >= 40  # seconds: it waited, it did not stop


def test_a_step_whose_candidate_turns_unready_and_cannot_pull_stops_and_puts_traffic_back(
    deployed, capsys
):
    fake, rollout = deployed  # the Service's wait reads the pods of the revision it waits for
    stuck = deploying(pull_error(FAKE_IMAGE))
    fake.before_patch.append(lambda: fake.story(V2, (FOREVER, stuck)))
    assert rollout("shift", "--to", V2, "--steps", "10,100", *GATE) == 1
    err = capsys.readouterr().err
    assert (
        f"step 1 did not take: service house-price failed: revision {V2}: "
        f'image "{FAKE_IMAGE}" cannot be pulled: Back-off pulling image' in err
    )
    assert percents(fake)[-1] == 0  # back where it started


def test_without_leave_to_list_pods_the_wait_judges_knatives_conditions_alone(fresh, capsys):
    fake, rollout = fresh
    fake.cluster.deny("list", "", "pods")
    fake.story(NEW, (FOREVER, deploying(pull_error(NEW_IMAGE))))
    assert rollout(*DEPLOY, "--timeout", "60s") == 2
    out, err = capsys.readouterr()
    assert out.count(FORBIDDEN) == 1  # said once, not at every poll
    assert f"revision {NEW} is not ready after 60 s: not ready for 60 s (Deploying)" in err
    assert [path for _, path in fake.requests].count("/api/v1/namespaces/house-price/pods") == 1


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("true", None),  # only the pod says it, and the pods may not be read: no line
        ("false", f"revision {NEW}: pod unschedulable for 0 s, waiting for a node ({NO_NODE})"),
    ],
)
def test_without_leave_to_list_pods_a_revision_waiting_for_a_node_still_deploys(
    fresh, capsys, setting, said
):
    fake, rollout = fresh
    pod_is_always_schedulable(fake, setting)
    fake.cluster.deny("list", "", "pods")
    fake.story(NEW, (20, unschedulable()))
    assert rollout(*DEPLOY) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith(FORBIDDEN) for line in lines)
    waiting = [line for line in lines if "unschedulable" in line]
    assert (waiting[:1] or [None]) == [said]
    deploying_said = [line for line in lines if line.endswith("s (Deploying)")]
    assert bool(deploying_said) is (said is None)  # Knative's word alone, as before
