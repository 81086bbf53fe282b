"""A Prometheus that is down, answers garbage or does not scrape the predictor is never a pass:
exit 2 with a message, before any traffic moves, or with traffic put back if it had moved."""

import json
import socket

import pytest

from knative.record import ANNOTATION
from tests.rollout.gates.fake_prometheus import BUILD_INFO, FakePrometheus, vector
from tests.rollout.shared import DEPLOYED, V1, V2

GATES = ["--probe-requests", "5", "--min-requests", "1"]
SCRAPED = vector(({"__name__": "house_price_model_info", "revision": V1}, 1.0))
HEALTHY = {"/api/v1/status/buildinfo": (200, BUILD_INFO), "/api/v1/query": (200, SCRAPED)}


def refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"  # closed at once: nobody listens


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (
            {"/api/v1/status/buildinfo": (200, b"<html>a login page</html>")},
            "answered HTTP 200 with something that is not Prometheus's HTTP API",
        ),
        (
            {"/api/v1/status/buildinfo": (503, {"status": "error", "error": "starting"})},
            "answered error (HTTP 503)",
        ),
        (
            HEALTHY | {"/api/v1/query": (200, vector())},
            f"has no house_price_model_info of {V1}: it does not scrape the predictor's pods",
        ),
        (
            HEALTHY | {"/api/v1/query": (200, {"status": "success", "data": {"resultType": 1}})},
            "answered no vector",
        ),
    ],
)
def test_a_broken_prometheus_exits_2_before_anything_moves(
    deployed, route, capsys, answers, message
):
    fake, rollout = deployed
    with FakePrometheus(answers).running() as prometheus:
        assert rollout("shift", "--to", V2, "--prometheus-url", prometheus.url, *GATES) == 2
    assert fake.spec_patches() == [] and route.bodies == []
    assert message in capsys.readouterr().err
    assert json.loads(fake.annotation(ANNOTATION))["verdict"] == "error"


def test_prometheus_down_exits_2_before_anything_moves(deployed, route, capsys):
    fake, rollout = deployed
    url = refused_url()
    assert rollout("promote", "--prometheus-url", url, *GATES) == 2
    assert fake.spec_patches() == [] and route.bodies == []
    assert f"error: Prometheus at {url} did not answer (ConnectionError)" in capsys.readouterr().err


def test_prometheus_failing_after_a_step_puts_traffic_back_and_exits_2(deployed, capsys):
    fake, rollout = deployed
    failed_query = (400, {"status": "error", "errorType": "bad_data", "error": "parse error"})
    with FakePrometheus(HEALTHY, failed_query, broken_after=2).running() as prometheus:
        assert rollout("shift", "--to", V2, "--prometheus-url", prometheus.url, *GATES) == 2
    assert fake.traffic() == DEPLOYED and len(fake.spec_patches()) == 2  # step 1, then back
    err = capsys.readouterr().err
    assert "live gate after step 1 (10 %) could not judge: Prometheus at" in err
    assert "answered error (HTTP 400)" in err and "bad_data: parse error" in err
    assert f"traffic is back at {V1} 100 %" in err
    assert json.loads(fake.annotation(ANNOTATION))["traffic"] == {V1: 100, V2: 0}


def test_a_live_gate_needs_a_window_of_some_seconds(deployed, capsys):
    fake, rollout = deployed
    url = "http://127.0.0.1:9"
    assert rollout("shift", "--to", V2, "--prometheus-url", url, "--interval", "1s") == 2
    assert "--interval 1 s is too short a window of live traffic" in capsys.readouterr().err
    assert fake.spec_patches() == []
