"""The printed kn commands do what the tool does: checked by applying kn's rules to them."""

import pytest

from knative.traffic.kn import kn_update
from knative.traffic.plan import (
    Traffic,
    for_deploy,
    for_rollback,
    parse_traffic,
    shifted,
    to_targets,
)
from tests.rollout.fake_kn import kn_applied

V1, V2, V3 = "house-price-v1", "house-price-v2", "house-price-v3"
FRESH = [{"revisionName": V1, "percent": 100}]
DEPLOYED = to_targets(Traffic({V1: 100, V2: 0}, {"blue": V1, "green": V2}))
PROMOTED = to_targets(Traffic({V1: 0, V2: 100}, {"blue": V1, "green": V2}))
FLOATING = [{"latestRevision": True, "percent": 100, "tag": "blue"}]


@pytest.mark.parametrize(
    ("before", "plan"),
    [
        (FRESH, lambda t: for_deploy(t, V2)),
        (None, lambda t: for_deploy(t, V2)),
        (FLOATING, lambda t: for_deploy(t, V2)),
        (PROMOTED, lambda t: for_deploy(t, V3)),
        (DEPLOYED, lambda t: shifted(t, V2, 10)),
        (DEPLOYED, lambda t: shifted(t, V2, 100)),
        (PROMOTED, for_rollback),
        (to_targets(Traffic({V1: 30, V2: 70}, {"blue": V1, "green": V2})), for_rollback),
    ],
    ids=[
        "deploy-first",
        "deploy-no-traffic-block",
        "deploy-floating-tag",
        "deploy-after-promote",
        "shift-10",
        "shift-100",
        "rollback-after-promote",
        "rollback-mid-shift",
    ],
)
def test_the_kn_command_gives_the_same_traffic(before, plan):
    current = parse_traffic(before, V1)  # V1 is the latest ready revision
    after = plan(current)
    command = kn_update("house-price", "house-price", before, after)
    applied, flags = kn_applied(command, before)
    assert all(target.get("revisionName") for target in applied), "every target pinned"
    assert parse_traffic(applied, None) == after
    assert flags["service"] == "house-price" and flags["namespace"] == "house-price"


def test_a_floating_tag_is_untagged_then_pinned():
    command = kn_update(
        "house-price", "house-price", FLOATING, for_deploy(Traffic({V1: 100}, {"blue": V1}), V2)
    )
    assert "--untag blue" in command and f"--tag {V1}=blue" in command


def test_unchanged_tags_are_not_repeated():
    command = kn_update(
        "house-price", "house-price", DEPLOYED, shifted(parse_traffic(DEPLOYED, None), V2, 50)
    )
    assert "--tag" not in command and "--untag" not in command
    assert command.endswith(f"--traffic {V1}=50 --traffic {V2}=50")


def test_the_deploy_flags_reach_kn():
    extra = ["--image", "registry.example.com/house-price:2", "--revision-name", V2]
    after = for_deploy(parse_traffic(FRESH, None), V2)
    _, flags = kn_applied(kn_update("house-price", "house-price", FRESH, after, extra), FRESH)
    assert flags["image"] == "registry.example.com/house-price:2"
    assert flags["revision_name"] == V2
