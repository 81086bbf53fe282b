"""Waiting for capacity is not a failure: a revision whose pod waits for a node is waited for up
to ``--timeout``, saying so every few seconds, and a revision Knative says will never run stops
the command at once with Knative's own message. The fake API reports each case with Knative
1.23's conditions (``tests/rollout/fake_knative_conditions.py``); a pod waiting for a node is
said the same way whether Knative reports it (``pod-is-always-schedulable: "false"``, its
default) or only the pod does ("true", as ``cluster/`` sets it)."""

import pytest

from knative.traffic.plan import parse_traffic
from tests.rollout.fake_knative_conditions import (
    NO_NODE,
    container_exits,
    image_missing,
    never_scaled,
    pull_backoff,
    unschedulable,
)
from tests.rollout.shared import DEPLOY, NEW, NEW_IMAGE, V1, V2, percents, pod_is_always_schedulable

GATE = ["--probe-requests", "5"]


WAITING = f"revision {NEW}: pod unschedulable for {{seconds}} s, waiting for a node ({NO_NODE})"
# config-deployment's pod-is-always-schedulable: ours, then Knative's default
SETTINGS = pytest.mark.parametrize("setting", ["true", "false"])


@pytest.mark.parametrize(
    ("setting", "ready"),
    [
        ("true", {"status": "Unknown", "reason": "Deploying"}),
        ("false", {"status": "False", "reason": "Unschedulable", "message": NO_NODE}),
    ],
)
def test_the_fake_reports_a_pod_waiting_for_a_node_as_knative_does_for_each_setting(
    fresh, setting, ready
):
    fake, _ = fresh
    pod_is_always_schedulable(fake, setting)
    fake.failing_revisions[V1] = unschedulable()
    revision = fake.revision_view(fake.revisions[V1])
    assert {"type": "Ready"} | ready in revision["status"]["conditions"]
    (pod,) = fake.list_pods(f"serving.knative.dev/revision={V1}")
    assert pod["status"]["conditions"] == [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": NO_NODE}
    ]
    assert "containerStatuses" not in pod["status"]


@SETTINGS
def test_a_revision_that_waits_for_a_node_deploys_and_then_shifts_green(
    fresh, green_route, blue_route, capsys, setting
):
    fake, rollout = fresh
    pod_is_always_schedulable(fake, setting)
    fake.tag_urls |= {"green": green_route.url, "blue": blue_route.url}
    fake.story(NEW, (40, unschedulable()))  # 40 API requests: the revision and its pods, ~40 s
    assert rollout(*DEPLOY) == 0
    lines = capsys.readouterr().out.splitlines()
    said = [line for line in lines if "unschedulable" in line]
    assert said == [WAITING.format(seconds=s) for s in (0, 10, 20, 30)]  # every 10 s
    assert f"revision {NEW} is ready" in lines
    assert 30 <= rollout.clock.now <= 60
    assert rollout("shift", "--to", NEW, "--steps", "50,100", *GATE) == 0
    assert parse_traffic(fake.traffic(), None).percents == {V1: 0, NEW: 100}


@SETTINGS
def test_a_step_waits_while_the_candidates_new_pods_wait_for_a_node(deployed, capsys, setting):
    fake, rollout = deployed
    pod_is_always_schedulable(fake, setting)
    fake.before_patch.append(lambda: fake.story(V2, (40, unschedulable())))
    assert rollout("shift", "--to", V2, "--steps", "10,100", *GATE) == 0
    assert percents(fake) == [10, 100]
    assert "service house-price: pod unschedulable for 10 s, waiting for a node" in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize(
    "case",
    [
        container_exits("model-v2.onnx does not match its card's sha256"),
        image_missing(NEW_IMAGE),
        pull_backoff(NEW_IMAGE),
        never_scaled(),
    ],
    ids=["container exits", "image missing", "image pull back-off", "never scaled"],
)
def test_a_revision_that_will_never_run_stops_the_deploy_at_once_with_knatives_words(
    fresh, capsys, case
):
    fake, rollout = fresh
    fake.failing_revisions[NEW] = case
    assert rollout(*DEPLOY) == 2
    message = next(c["message"] for c in case.conditions() if c["type"] == "Ready")
    err = capsys.readouterr().err
    assert f"revision {NEW} failed: {message}; {NEW} has 0 %, traffic is as it was" in err
    assert rollout.clock.now < 5  # at once: no wait for the timeout
    assert parse_traffic(fake.traffic(), None).percents == {V1: 100, NEW: 0}


@SETTINGS
def test_a_revision_that_fails_after_waiting_for_a_node_stops_then(fresh, capsys, setting):
    fake, rollout = fresh
    pod_is_always_schedulable(fake, setting)
    fake.story(NEW, (10, unschedulable()), (10**6, container_exits("out of memory", 137)))
    assert rollout(*DEPLOY) == 2
    err = capsys.readouterr().err
    assert f"revision {NEW} failed: Container failed with: out of memory" in err
    assert 10 <= rollout.clock.now < 30


@SETTINGS
def test_a_node_that_never_comes_ends_at_the_timeout_saying_what_it_waited_for(
    fresh, capsys, setting
):
    fake, rollout = fresh
    pod_is_always_schedulable(fake, setting)
    fake.story(NEW, (10**6, unschedulable()))
    assert rollout(*DEPLOY, "--timeout", "60s") == 2
    err = capsys.readouterr().err
    assert f"revision {NEW} is not ready after 60 s: pod unschedulable for 60 s" in err
    assert "traffic is as it was" in err
    assert f"kubectl describe pods -n house-price -l serving.knative.dev/revision={NEW}" in err
