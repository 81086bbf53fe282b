"""``deploy --prometheus-url``: green's initial-scale sized from blue's traffic, against the fake
Knative API and a stand-in Prometheus (the numbers, the ways it cannot answer), and once against
a real Prometheus scraping a real predictor (the PromQL and its labels)."""

import json
import math
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import yaml

from knative.commands.warm import rps_at, target_concurrency
from knative.traffic.template import INITIAL_SCALE
from loadtest.local_server import free_port, start_server, stop, wait_ready
from tests.rollout.commands.test_cli import NEW, deploy_args
from tests.rollout.fake_kn import kn_applied
from tests.rollout.fake_knative_api import FakeKnative
from tests.rollout.gates.fake_prometheus import BUILD_INFO, FakePrometheus, vector
from tests.rollout.shared import V1, cli
from tests.support.prometheus_server import running_prometheus
from tests.support.repo import MODEL_DATA, REPO, SAMPLE_ROW

SERVICE = yaml.safe_load((REPO / "knative" / "base" / "service.yaml").read_text())
# The template the fake starts from: the autoscaling annotations of a Service like ours, fixed here
# so that the numbers below stay put when `make recommend` moves service.yaml's.
ANNOTATIONS = {
    "autoscaling.knative.dev/class": "kpa.autoscaling.knative.dev",
    "autoscaling.knative.dev/metric": "concurrency",
    "autoscaling.knative.dev/target": "4",
    "autoscaling.knative.dev/target-utilization-percentage": "70",
    "autoscaling.knative.dev/max-scale": "8",
    INITIAL_SCALE: "1",
}
MAX_SCALE = 8
CURVE = [  # a per-pod curve in the shape loadtest/capacity-measured.json has
    {"concurrency": 1, "rps": 1000.0, "p99_ms": 2.0, "errors": 0},
    {"concurrency": 2, "rps": 1800.0, "p99_ms": 3.0, "errors": 0},
    {"concurrency": 4, "rps": 2400.0, "p99_ms": 6.0, "errors": 0},
]


@pytest.fixture
def knative(tmp_path):
    """house-price-v1 serving everything, from a template with ANNOTATIONS (initial-scale 1)."""
    with FakeKnative.started(annotations=ANNOTATIONS) as fake:
        yield fake, cli(fake, tmp_path)


def serving_rate(rate: float) -> FakePrometheus:
    query = (200, vector(({}, rate)))
    return FakePrometheus({"/api/v1/query": query, "/api/v1/status/buildinfo": (200, BUILD_INFO)})


def initial_scales(fake) -> dict[str, str | None]:
    return {n: r["metadata"]["annotations"].get(INITIAL_SCALE) for n, r in fake.revisions.items()}


@pytest.mark.parametrize(
    ("blue_rps", "first_step", "pod_rps", "pods"),
    [
        (850, 10, 700, 1),  # 85 req/s: one pod is plenty
        (7000, 10, 700, 1),  # 700 req/s: exactly one pod's worth
        (7001, 10, 700, 2),  # a request more needs a second
        (7000, 25, 700, 3),  # 1,750 req/s
        (0, 10, 700, 1),  # blue idle: never 0 pods, green must prove itself Ready
        (60000, 10, 700, MAX_SCALE),  # 6,000 req/s would want 9: max-scale 8 bounds it
    ],
)
def test_green_starts_with_the_pods_the_first_step_needs(
    knative, capsys, blue_rps, first_step, pod_rps, pods
):
    fake, rollout = knative
    with serving_rate(blue_rps).running() as prometheus:
        assert (
            rollout(
                *deploy_args(),
                *("--prometheus-url", prometheus.url, "--pod-rps", str(pod_rps)),
                *("--first-step", str(first_step)),
            )
            == 0
        )
    assert pods == max(1, min(MAX_SCALE, math.ceil(blue_rps * first_step / 100 / pod_rps)))
    assert initial_scales(fake) == {V1: "1", NEW: str(pods)}  # blue's revision is as it was
    template = fake.services["house-price"]["spec"]["template"]
    assert template["metadata"]["annotations"][INITIAL_SCALE] == str(pods)
    assert template["metadata"]["annotations"] | {INITIAL_SCALE: "1"} == ANNOTATIONS
    query = parse_qs(urlsplit(prometheus.paths[-1]).query)["query"][0]
    assert query == (
        f'sum(rate(house_price_requests_total{{revision="{V1}",kind="prediction"}}[2m]))'
    )
    out = capsys.readouterr().out
    step = blue_rps * first_step / 100
    assert (
        f"warm: {V1} serves {blue_rps:,} predictions/s (rate over 2m); the first step "
        f"({first_step} %) sends {step:,.0f} req/s; 1 pod carries {pod_rps:,} req/s (--pod-rps): "
        f"initial-scale {pods}"
    ) in out
    assert ("bounded by max-scale 8" in out) == (pods == MAX_SCALE)


def test_one_pods_capacity_comes_from_the_measured_curve_at_the_autoscaling_target(
    knative, tmp_path, capsys
):
    fake, rollout = knative
    curve = tmp_path / "capacity.json"
    curve.write_text(json.dumps({"measured": "2026-12-06T00:51:19+00:00", "levels": CURVE}))
    with serving_rate(30000).running() as prometheus:
        args = ("--prometheus-url", prometheus.url, "--capacity", str(curve))
        assert rollout(*deploy_args(), *args) == 0
    # target 4 x 70 % = 2.8 in flight: 1,800 + 0.8 x (2,400 - 1,800) / 2 = 2,040 req/s a pod;
    # the first step sends 3,000 req/s: 2 pods
    assert initial_scales(fake)[NEW] == "2"
    assert (
        "1 pod carries 2,040 req/s at the autoscaling target (2.8 in flight = target 4 × 70 %; "
        "capacity.json, measured 2026-12-06T00:51:19+00:00): initial-scale 2"
    ) in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answers", "why"),
    [
        ({"/api/v1/query": (200, vector())}, "has no house_price_requests_total of house-price-v1"),
        ({"/api/v1/query": (200, b"<html>login</html>")}, "is not Prometheus's HTTP API"),
        ({"/api/v1/query": (422, {"status": "error", "error": "bad"})}, "answered error"),
    ],
)
def test_without_data_green_keeps_the_templates_initial_scale_and_deploy_goes_on(
    knative, capsys, answers, why
):
    fake, rollout = knative
    with FakePrometheus(answers).running() as prometheus:
        args = ("--prometheus-url", prometheus.url, "--pod-rps", "700")
        assert rollout(*deploy_args(), *args) == 0
    assert initial_scales(fake) == {V1: "1", NEW: "1"}
    out = capsys.readouterr().out
    assert f"warm: cannot size green (Prometheus at {prometheus.url}" in out and why in out
    assert "initial-scale stays 1 (the template's)" in out
    assert f"{NEW} serves 0 %" in out  # deployed all the same


def test_a_prometheus_that_does_not_answer_leaves_the_template_as_it_is(knative, capsys):
    fake, rollout = knative
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert rollout(*deploy_args(), "--prometheus-url", url, "--pod-rps", "700") == 0
    assert initial_scales(fake) == {V1: "1", NEW: "1"}
    assert f"Prometheus at {url} did not answer (ConnectionError)" in capsys.readouterr().out


def test_without_a_measured_curve_or_pod_rps_green_keeps_the_templates_initial_scale(
    knative, tmp_path, capsys
):
    fake, rollout = knative
    with serving_rate(30000).running() as prometheus:
        args = ("--prometheus-url", prometheus.url, "--capacity", str(tmp_path / "none.json"))
        assert rollout(*deploy_args(), *args) == 0
    assert initial_scales(fake)[NEW] == "1"
    out = capsys.readouterr().out
    assert "no per-pod capacity from" in out and "give --pod-rps); initial-scale stays 1" in out


def test_the_dry_run_shows_the_initial_scale_and_its_kn_command_does_the_same(knative, capsys):
    fake, rollout = knative
    before = fake.traffic()
    with serving_rate(20000).running() as prometheus:
        warm = ("--prometheus-url", prometheus.url, "--pod-rps", "700")
        assert rollout(*deploy_args(), *warm, "--dry-run") == 0
        assert fake.patches() == [] and NEW not in fake.revisions
        out = capsys.readouterr().out
        assert "initial-scale 3" in out  # 2,000 req/s / 700
        [command] = [line.split("kn: ", 1)[1] for line in out.splitlines() if "kn: " in line]
        assert rollout(*deploy_args(), *warm) == 0
    applied, flags = kn_applied(command, before)
    assert flags["scale_init"] == "3" and initial_scales(fake)[NEW] == "3"
    assert flags["revision_name"] == NEW


def test_pod_rps_without_prometheus_is_bad_usage(knative, capsys):
    fake, rollout = knative
    assert rollout(*deploy_args(), "--pod-rps", "700") == 2
    assert "--pod-rps sizes green from blue's traffic: give --prometheus-url" in (
        capsys.readouterr().err
    )
    assert fake.patches() == []


def test_without_prometheus_deploy_sizes_nothing(knative, capsys):
    fake, rollout = knative
    assert rollout(*deploy_args()) == 0
    assert initial_scales(fake)[NEW] == "1" and "warm:" not in capsys.readouterr().out


# TestResolveMetricTarget (pkg/reconciler/autoscaling/resources/target_test.go, Knative 1.23),
# the concurrency cases: its config has container-concurrency-target-default 100 and a target
# utilization of 100 % unless the case changes them.
@pytest.mark.parametrize(
    ("case", "cc", "notes", "utilization", "default", "want"),
    [
        ("defaults", 0, {}, 1.0, 100, 100),
        ("default CC + 80% TU", 0, {}, 0.8, 100, 80),
        ("non-default CC and TU", 0, {}, 0.3, 2, 0.6),
        (
            "with container concurrency 12 and TU=80%, but TU annotation 75%",
            12,
            {"tu": "75"},
            0.8,
            100,
            9,
        ),  # fmt: skip
        ("with container concurrency 1 and TU=80%", 1, {}, 0.8, 100, 0.8),
        ("with container concurrency 10", 10, {}, 1.0, 100, 10),
        ("with target annotation 1", 0, {"target": "1"}, 1.0, 100, 1),
        ("with target annotation 1 and TU=0.1%", 0, {"target": "1"}, 0.001, 100, 0.01),
        ("with target annotation 1 and TU=75%", 0, {"target": "1"}, 0.75, 100, 0.75),
        ("with target annotation greater than default (ok)", 0, {"target": "500"}, 1.0, 100, 500),
        (
            "with target annotation greater than container concurrency (ignore annotation for "
            "safety)",
            1,
            {"target": "10"},
            1.0,
            100,
            1,
        ),  # fmt: skip
    ],
)
def test_the_target_concurrency_is_what_knative_resolves(
    case, cc, notes, utilization, default, want
):
    keys = {"tu": "target-utilization-percentage", "target": "target"}
    annotations = {f"autoscaling.knative.dev/{keys[k]}": v for k, v in notes.items()}
    template = {"metadata": {"annotations": annotations}, "spec": {"containerConcurrency": cc}}
    assert target_concurrency(template, default, utilization)[0] == pytest.approx(want), case


def test_service_yaml_aims_at_its_own_target():
    notes = SERVICE["spec"]["template"]["metadata"]["annotations"]
    target = float(notes["autoscaling.knative.dev/target"])
    utilization = float(notes["autoscaling.knative.dev/target-utilization-percentage"]) / 100
    assert target_concurrency(SERVICE["spec"]["template"])[0] == pytest.approx(target * utilization)


def test_the_curve_is_read_between_its_levels():
    assert rps_at(CURVE, 0.5) == 500  # below the first level: in proportion from 0
    assert rps_at(CURVE, 3) == 2100
    assert rps_at(CURVE, 16) == 2400  # past the last: the best
    dip = [*CURVE, {"concurrency": 8, "rps": 2000.0}]  # a noisy dip is smoothed out
    assert rps_at(dip, 6) == 2400
    with pytest.raises(ValueError):
        rps_at([{"concurrency": 1, "rps": 0.0}], 1)


def _query(url: str, promql: str) -> list:
    answer = requests.get(f"{url}/api/v1/query", params={"query": promql}, timeout=2).json()
    return answer["data"]["result"]


def _until(condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "Prometheus did not see it in time"
        time.sleep(0.2)


def test_a_real_prometheus_scraping_blue_sizes_green(knative, tmp_path, capsys):
    """The PromQL against a real Prometheus and a real predictor labelled as blue: idle, then
    busy (``--pod-rps 0.001``, so any traffic wants more than max-scale)."""
    fake, rollout = knative
    process, url = start_server(K_REVISION=V1, MODEL_PATH=str(MODEL_DATA / "model-v1.onnx"))
    try:
        wait_ready(process, url)
        with running_prometheus(tmp_path, [url.removeprefix("http://")]) as prometheus:
            count = f'house_price_requests_total{{revision="{V1}",kind="prediction"}}'
            _until(lambda: _query(prometheus, f"count_over_time({count}[1m]) >= 2"))
            warm = ("--prometheus-url", prometheus, "--pod-rps", "0.001")
            assert rollout(*deploy_args(), *warm) == 0
            with requests.Session() as session:
                for _ in range(200):
                    session.post(f"{url}/predict", json=SAMPLE_ROW, timeout=5).raise_for_status()
            _until(lambda: _query(prometheus, f"sum(rate({count}[2m])) > 0"))
            later = ("ccccccc", "registry.example.com/hp:ccccccc")
            assert rollout(*deploy_args(*later), *warm) == 0
    finally:
        stop(process)
    assert initial_scales(fake) == {V1: "1", NEW: "1", "house-price-v2-ccccccc": "8"}
    out = capsys.readouterr().out
    assert f"warm: {V1} serves 0 predictions/s (rate over 2m)" in out
    assert "initial-scale 8, bounded by max-scale 8" in out
