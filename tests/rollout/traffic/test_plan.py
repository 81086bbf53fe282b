"""Pure planning: no server, no clock."""

import pytest

from knative.errors import RolloutError
from knative.traffic.plan import (
    Traffic,
    for_deploy,
    for_rollback,
    parse_duration,
    parse_steps,
    parse_traffic,
    shifted,
    tagged,
    to_targets,
    validate,
)
from knative.traffic.template import model_path, new_template, revision_name

V1, V2, V3 = "house-price-v1", "house-price-v2", "house-price-v3"


def test_latest_revision_targets_resolve_to_the_latest_ready_revision():
    targets = [{"latestRevision": True, "percent": 100, "tag": "blue"}]
    assert parse_traffic(targets, V1) == Traffic({V1: 100}, {"blue": V1})


def test_a_service_without_traffic_block_routes_all_to_the_latest_ready_revision():
    assert parse_traffic(None, V2) == Traffic({V2: 100}, {})


def test_latest_revision_without_a_ready_revision_is_a_clear_error():
    with pytest.raises(RolloutError, match="no revision is ready"):
        parse_traffic([{"latestRevision": True, "percent": 100}], None)


def test_targets_of_one_revision_add_up_and_keep_every_tag():
    targets = [
        {"revisionName": V1, "percent": 100},
        {"revisionName": V1, "percent": 0, "tag": "blue"},
        {"revisionName": V2, "tag": "green"},
    ]
    traffic = parse_traffic(targets, V2)
    assert traffic == Traffic({V1: 100, V2: 0}, {"blue": V1, "green": V2})
    assert parse_traffic(to_targets(traffic), None) == traffic


def test_targets_are_pinned_and_untagged_zero_targets_dropped():
    traffic = Traffic({V1: 90, V2: 10, V3: 0}, {"blue": V1, "extra": V1})
    assert to_targets(traffic) == [
        {"revisionName": V1, "percent": 90, "latestRevision": False, "tag": "blue"},
        {"revisionName": V1, "percent": 0, "latestRevision": False, "tag": "extra"},
        {"revisionName": V2, "percent": 10, "latestRevision": False},
    ]


@pytest.mark.parametrize(
    ("traffic", "message"),
    [
        (Traffic({V1: 90}, {}), "sum to 90"),
        (Traffic({V1: 101, V2: -1}, {}), "not a whole number in 0..100"),
        (Traffic({V1: 100}, {"Blue_1": V1}), "DNS-1035"),
    ],
)
def test_validate_names_what_knative_would_reject(traffic, message):
    with pytest.raises(RolloutError, match=message):
        validate(traffic)


def test_shift_keeps_tags_and_sums_to_100_at_every_step():
    start = Traffic({V1: 100, V2: 0}, {"blue": V1, "green": V2})
    seen = [shifted(start, V2, step) for step in (10, 25, 50, 100)]
    assert [t.percents for t in seen] == [
        {V1: 90, V2: 10},
        {V1: 75, V2: 25},
        {V1: 50, V2: 50},
        {V1: 0, V2: 100},
    ]
    assert all(t.tags == start.tags for t in seen)


@pytest.mark.parametrize("start", [{V1: 70, V2: 30}, {V1: 33, V2: 33, V3: 34}, {V1: 1, V2: 99}])
def test_other_revisions_share_the_rest_as_before_in_whole_percents(start):
    before = Traffic(start, {})
    previous = None
    for percent in range(1, 101):
        after = shifted(before, "house-price-v9", percent)
        assert sum(after.percents.values()) == 100
        assert after.percent("house-price-v9") == percent
        if previous:
            assert all(after.percents[r] <= previous.percents[r] for r in start)
        previous = after


def test_shift_from_a_split_where_the_candidate_has_everything_is_refused():
    with pytest.raises(RolloutError, match="nothing to shift from"):
        shifted(Traffic({V2: 100, V1: 0}, {}), V2, 50)


def test_deploy_adds_the_new_revision_at_0_tagged_green_and_moves_blue():
    after_promote = Traffic({V1: 0, V2: 100}, {"blue": V1, "green": V2, "canary": V1})
    planned = for_deploy(after_promote, V3)
    assert planned.percents == {V1: 0, V2: 100, V3: 0}
    assert planned.tags == {"canary": V1, "blue": V2, "green": V3}
    assert [t["revisionName"] for t in to_targets(planned)] == [V1, V2, V3]


def test_deploy_during_a_split_is_refused():
    with pytest.raises(RolloutError, match="promote or roll back"):
        for_deploy(Traffic({V1: 50, V2: 50}, {}), V3)


def test_deploy_of_the_serving_revision_is_refused():
    with pytest.raises(RolloutError, match="already serves"):
        for_deploy(Traffic({V2: 100}, {}), V2)


def test_rollback_sends_everything_to_blue_and_keeps_tags():
    current = Traffic({V1: 25, V2: 75}, {"blue": V1, "green": V2})
    assert for_rollback(current) == Traffic({V1: 100, V2: 0}, current.tags)


def test_rollback_without_blue_and_promote_without_green_say_why():
    with pytest.raises(RolloutError, match="tagged blue"):
        for_rollback(Traffic({V1: 100}, {}))
    with pytest.raises(RolloutError, match="tagged green"):
        tagged(Traffic({V1: 100}, {}), "green")


def test_steps_parse_and_must_rise_within_1_to_100():
    assert parse_steps("10,25,50,100") == [10, 25, 50, 100]
    assert parse_steps("5") == [5]
    for bad in ("10,x", "0,50", "50,25", "10,10", "10,101", ""):
        with pytest.raises(RolloutError):
            parse_steps(bad)


def test_durations_parse_with_units():
    assert [parse_duration(t) for t in ("30s", "5m", "1h", "250ms", "12", "1.5s")] == [
        30,
        300,
        3600,
        0.25,
        12,
        1.5,
    ]
    with pytest.raises(RolloutError, match="not a duration"):
        parse_duration("soon")


def test_the_revision_name_says_the_model_and_the_release():
    assert revision_name("house-price", "2", "1a2b3c4") == "house-price-v2-1a2b3c4"
    assert model_path("2") == "/app/model_data/model-v2.onnx"
    longest = "a" * (63 - len("house-price-v2-"))
    assert len(revision_name("house-price", "2", longest)) == 63


@pytest.mark.parametrize(
    ("model_version", "release", "message"),
    [
        ("v2", "1a2b3c4", "number like 2"),
        ("2", "", "--release wants lowercase letters"),
        ("2", "1A2B3C4", "--release wants lowercase letters"),
        ("2", "feature/x", "--release wants lowercase letters"),
        ("2", "abc-", "--release wants lowercase letters"),  # a DNS label ends alphanumeric
        ("2", "a" * 49, "longer than 63 characters"),
    ],
)
def test_a_bad_model_version_or_release_is_refused(model_version, release, message):
    with pytest.raises(RolloutError, match=message):
        revision_name("house-price", model_version, release)


def test_new_template_changes_name_image_and_model_and_keeps_the_rest():
    container = {
        "image": "old",
        "ports": [{"containerPort": 8080}],
        "env": [{"name": "A", "value": "1"}, {"name": "MODEL_PATH", "value": "old"}],
    }
    service = {
        "spec": {"template": {"metadata": {"name": V1}, "spec": {"containers": [container]}}}
    }
    template = new_template(service, V2, "img:2", "/app/model_data/model-v2.onnx")
    assert template["metadata"]["name"] == V2
    assert template["spec"]["containers"] == [
        {
            "image": "img:2",
            "ports": [{"containerPort": 8080}],
            "env": [
                {"name": "A", "value": "1"},
                {"name": "MODEL_PATH", "value": "/app/model_data/model-v2.onnx"},
            ],
        }
    ]
    assert service["spec"]["template"]["metadata"]["name"] == V1  # the input is not changed
    with pytest.raises(RolloutError, match="--image"):
        new_template(service, V2, "", "x")
