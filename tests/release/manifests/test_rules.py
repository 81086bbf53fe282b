"""Knative's webhook rules (knative_rules/ and knative/traffic/rules.py) hold, and each bites."""

import pytest

from knative.traffic.plan import parse_go_duration
from knative.traffic.rules import traffic_errors
from tests.release.manifests.knative_manifests import (
    PHASES,
    cluster_limits,
    phase_service,
    reference_defaults,
)
from tests.release.manifests.knative_rules.autoscaling import autoscaling_errors
from tests.release.manifests.knative_rules.limits import ClusterLimits
from tests.release.manifests.knative_rules.service import (
    InvalidService,
    check_service,
    manifest_errors,
    service_errors,
)

AS = "autoscaling.knative.dev/"


@pytest.mark.parametrize("phase", PHASES)
def test_every_phase_keeps_knatives_rules_on_our_cluster(phase):
    check_service(phase_service(phase), cluster_limits())


def test_our_cluster_limits_come_from_config_autoscaler():
    assert cluster_limits().max_scale_limit == 12


def test_knatives_defaults_are_the_ones_its_config_maps_document():
    documented = reference_defaults("config-autoscaler") | reference_defaults("config-defaults")
    assert ClusterLimits.from_config(documented) == ClusterLimits()


def template(service):
    return service["spec"]["template"]


def container(service):
    return template(service)["spec"]["containers"][0]


def annotate(**values):
    def change(service):
        template(service)["metadata"]["annotations"].update(
            {AS + key.replace("_", "-"): value for key, value in values.items()}
        )

    return change


def old_spelling_only(**values):
    """Set keys in their old camelCase spelling, dropping the new one service.yaml may have."""

    def change(service):
        for key in values:
            new = "".join("-" + c.lower() if c.isupper() else c for c in key)
            template(service)["metadata"]["annotations"].pop(AS + new, None)
        annotate(**values)(service)

    return change


BREAKAGES = {
    "autoscaling on the Service": (
        lambda s: s["metadata"].setdefault("annotations", {}).update({AS + "min-scale": "1"}),
        "belongs on spec.template",
    ),
    "revision without prefix": (
        lambda s: template(s)["metadata"].update(name="price-v1"),
        'must have prefix "house-price-"',
    ),
    "revision not DNS-1035": (
        lambda s: template(s)["metadata"].update(name="house-price-V1"),
        "not DNS-1035",
    ),
    "max below min": (annotate(min_scale="5", max_scale="2"), "less than min-scale"),
    "max above the cluster limit": (annotate(max_scale="13"), "must be 1..12"),
    "unlimited max on a limited cluster": (annotate(max_scale="0"), "must be 1..12"),
    "target too small": (annotate(target="0.001"), "outside [0.01"),
    "utilization above 100": (annotate(target_utilization_percentage="101"), "outside [1, 100]"),
    "window too short": (annotate(window="5s"), "outside [6s, 1h]"),
    "window not whole seconds": (annotate(window="6500ms"), "whole seconds"),
    "retention over an hour": (annotate(scale_to_zero_pod_retention_period="61m"), "1h"),
    "scale-down delay not a duration": (annotate(scale_down_delay="soon"), "not a duration"),
    "panic threshold too low": (annotate(panic_threshold_percentage="100"), "[110, 1000]"),
    "negative burst capacity": (annotate(target_burst_capacity="-2"), "or -1"),
    "initial scale 0": (annotate(initial_scale="0"), "allow-zero-initial-scale"),
    "activation scale 1": (annotate(activation_scale="1"), "must be greater than 1"),
    "activation scale below min": (
        annotate(min_scale="3", activation_scale="2"),
        "min-scale=3 is greater than 2",
    ),
    "activation scale above max": (
        annotate(max_scale="4", activation_scale="9"),
        "max-scale=4 is less than 9",
    ),
    "KPA on CPU": (annotate(metric="cpu"), "not concurrency or rps"),
    "HPA without a metric": (
        annotate(metric="", **{"class": "hpa.autoscaling.knative.dev"}),
        "HPA needs a metric",
    ),
    "unknown Knative class": (annotate(**{"class": "x.autoscaling.knative.dev"}), "no autoscaler"),
    "unknown aggregation": (annotate(metric_aggregation_algorithm="median"), "not one of KPA's"),
    "old spelling, out of range": (old_spelling_only(scaleDownDelay="1500ms"), "whole seconds"),
    "misspelt annotation": (annotate(minscale="1"), "unknown autoscaling annotation"),
    "both spellings": (annotate(minScale="0"), "so Knative ignores this spelling"),
    "concurrency above the limit": (
        lambda s: template(s)["spec"].update(containerConcurrency=1001),
        "containerConcurrency",
    ),
    "timeout above the limit": (
        lambda s: template(s)["spec"].update(timeoutSeconds=601),
        "timeoutSeconds",
    ),
    "two ports": (
        lambda s: container(s)["ports"].append({"containerPort": 8081}),
        "exactly one container port",
    ),
    "reserved port": (lambda s: container(s)["ports"][0].update(containerPort=8012), "reserved"),
    "port name": (lambda s: container(s)["ports"][0].update(name="web"), "h2c or http1"),
    "reserved env": (
        lambda s: container(s)["env"].append({"name": "PORT", "value": "9000"}),
        "PORT is reserved",
    ),
    "image not filled in": (lambda s: container(s).update(image="${IMAGE}"), "not filled in"),
    "probe on another port": (
        lambda s: container(s)["readinessProbe"]["httpGet"].update(port=9000),
        "not the container port",
    ),
    "probe with two handlers": (
        lambda s: container(s)["livenessProbe"].update(tcpSocket={}),
        "exactly one of",
    ),
    "readiness timing without a period": (
        lambda s: container(s)["readinessProbe"].update(failureThreshold=3),
        "needs periodSeconds",
    ),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_each_rule_rejects_what_knative_rejects(breakage):
    change, expected = BREAKAGES[breakage]
    service = phase_service(PHASES[0])
    change(service)
    errors = manifest_errors(service, cluster_limits())
    assert any(expected in error for error in errors), errors


@pytest.mark.parametrize(
    "annotations",
    [
        {
            "class": "kpa.autoscaling.knative.dev",
            "metric-aggregation-algorithm": "weightedExponential",
        },
        {"metric-aggregation-algorithm": "median"},  # only checked when the class says KPA
        {
            "class": "example.com/my-autoscaler",
            "metric": "queue-depth",
        },  # not Knative's: left alone
        {"class": "hpa.autoscaling.knative.dev", "metric": "cpu"},
        {"min-scale": "1", "activation-scale": "3", "max-scale": "8"},
    ],
)
def test_what_knatives_webhook_admits(annotations):
    annotations = {AS + key: value for key, value in annotations.items()}
    assert autoscaling_errors(annotations, ClusterLimits()) == []


def test_of_two_spellings_the_webhook_reads_the_first_and_the_lint_says_so():
    service = phase_service(PHASES[0])
    annotate(max_scale="8", maxScale="50")(service)
    assert service_errors(service, cluster_limits()) == []  # 50 is never read
    assert any("maxScale" in error for error in manifest_errors(service, cluster_limits()))


def test_check_service_names_every_broken_rule():
    service = phase_service(PHASES[0])
    annotate(window="1s", target="0")(service)
    with pytest.raises(InvalidService) as raised:
        check_service(service)
    assert "window" in str(raised.value) and "target" in str(raised.value)


def target(revision="house-price-v1", percent=100, **more):
    return {"revisionName": revision, "percent": percent, **more}


@pytest.mark.parametrize(
    ("traffic", "expected"),
    [
        ([target(percent=90)], "sum to 90, want 100"),
        ([target(percent=101), target("house-price-v2", -1)], "not a whole number in 0..100"),
        (
            [target(tag="blue"), target("house-price-v2", 0, tag="blue")],
            'Multiple definitions for "blue"',
        ),
        ([target(tag="Blue_1")], "DNS-1035"),
        ([target(tag="x" * 60)], "DNS-1035"),
        ([target(latestRevision=True)], "contradicts revisionName"),
        ([{"percent": 100, "latestRevision": False}], "contradicts revisionName"),
        ([target(configurationName="house-price")], "configurationName: not allowed"),
        ([target(url="http://blue.example")], "url: not allowed"),
        ([target("other-v1")], 'must have prefix "house-price-"'),
    ],
)
def test_traffic_rules(traffic, expected):
    errors = traffic_errors(traffic, "house-price")
    assert any(expected in error for error in errors), errors


def test_a_valid_split_passes():
    traffic = [
        target(percent=50, tag="blue", latestRevision=False),
        target("house-price-v2", 50, tag="green"),
        {"latestRevision": True, "percent": 0, "tag": "latest"},
    ]
    assert traffic_errors(traffic, "house-price") == []


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0.0), ("60s", 60.0), ("10m", 600.0), ("1h", 3600.0), ("1m30s", 90.0), ("500ms", 0.5)],
)
def test_go_durations(text, seconds):
    assert parse_go_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10", "ten minutes", "1d", "-5s", "5s "])
def test_not_go_durations(text):
    assert parse_go_duration(text) is None


def test_only_autoscaling_annotations_are_checked():
    annotations = {"serving.knative.dev/no-gc": "true", "example.com/anything": "x"}
    assert autoscaling_errors(annotations, ClusterLimits()) == []


def test_unbounded_concurrency_needs_the_cluster_to_allow_it():
    service = phase_service(PHASES[0])
    template(service)["spec"]["containerConcurrency"] = 0
    assert service_errors(service, ClusterLimits()) == []
    strict = ClusterLimits(allow_container_concurrency_zero=False)
    assert any("outside [1, 1000]" in error for error in service_errors(service, strict))
