"""Waiting for capacity is not a failure: a revision whose pod waits for a node is waited for up
to ``--timeout``, saying so every few seconds, and a revision Knative says will never run stops
the command at once with Knative's own message. The fake API reports each case with Knative
1.23's conditions (``tests/rollout/fake_knative_conditions.py``)."""

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
from tests.rollout.fake_tag_route import FakeTagRoute
from tests.rollout.shared import V1, V2, percents

IMAGE = "registry.example.com/hp:bbbbbbb"
NEW = "house-price-v2-bbbbbbb"
DEPLOY = ("deploy", "--image", IMAGE, "--model-version", "2", "--release", "bbbbbbb")
GATE = ["--probe-requests", "5"]


@pytest.fixture
def green_route():
    with FakeTagRoute(NEW, "v2").running() as running:
        yield running


def test_a_revision_that_waits_for_a_node_deploys_and_then_shifts_green(
    fresh, green_route, blue_route, capsys
):
    fake, rollout = fresh
    fake.tag_urls |= {"green": green_route.url, "blue": blue_route.url}
    fake.story(NEW, (40, unschedulable()))  # 40 API requests: the revision and its pods, ~40 s
    assert rollout(*DEPLOY) == 0
    out = capsys.readouterr().out
    waiting = f"revision {NEW}: pod unschedulable for 30 s, waiting for a node ({NO_NODE})"
    assert waiting in out.splitlines()
    assert f"revision {NEW} is ready" in out
    assert 30 <= rollout.clock.now <= 60
    assert rollout("shift", "--to", NEW, "--steps", "50,100", *GATE) == 0
    assert parse_traffic(fake.traffic(), None).percents == {V1: 0, NEW: 100}


def test_a_step_waits_while_the_candidates_new_pods_wait_for_a_node(deployed, capsys):
    fake, rollout = deployed
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
        image_missing(IMAGE),
        pull_backoff(IMAGE),
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


def test_a_revision_that_fails_after_waiting_for_a_node_stops_then(fresh, capsys):
    fake, rollout = fresh
    fake.story(NEW, (10, unschedulable()), (10**6, container_exits("out of memory", 137)))
    assert rollout(*DEPLOY) == 2
    err = capsys.readouterr().err
    assert f"revision {NEW} failed: Container failed with: out of memory" in err
    assert 10 <= rollout.clock.now < 30


def test_a_node_that_never_comes_ends_at_the_timeout_saying_what_it_waited_for(fresh, capsys):
    fake, rollout = fresh
    fake.story(NEW, (10**6, unschedulable()))
    assert rollout(*DEPLOY, "--timeout", "60s") == 2
    err = capsys.readouterr().err
    assert f"revision {NEW} is not ready after 60 s: pod unschedulable for 60 s" in err
    assert "traffic is as it was" in err
    assert f"kubectl describe pods -n house-price -l serving.knative.dev/revision={NEW}" in err
