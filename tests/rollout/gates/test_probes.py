"""The gate: verdicts from probe results (pure), and probes against a local tag route."""

import socket

import pytest

from knative.gates.probes import Probe, p99, probe, verdict
from knative.gates.settings import GateSettings
from loadtest.local_server import start_server, stop, wait_ready
from tests.rollout.fake_tag_route import FakeTagRoute
from tests.support.repo import MODEL_DATA, SAMPLE_ROW

LIMITS = GateSettings(probe_requests=50, max_error_ratio=0.01, max_p99_ms=500)


def test_p99_is_the_nearest_rank():
    assert p99([float(ms) for ms in range(1, 101)]) == 99
    assert p99([5.0, 1.0, 3.0]) == 5
    assert p99([7.0]) == 7


def test_all_good_probes_pass_with_a_summary():
    passed, summary = verdict([Probe(10.0)] * 50, LIMITS)
    assert passed
    assert summary == "50/50 probes ok, p99 10 ms"


def test_an_error_ratio_above_the_limit_fails_and_says_what_went_wrong():
    probes = [Probe(10.0)] * 47 + [Probe(3.0, "HTTP 503")] * 2 + [Probe(1.0, "no answer (X)")]
    passed, summary = verdict(probes, LIMITS)
    assert not passed
    assert "47/50 probes ok" in summary
    assert "2x HTTP 503, 1x no answer (X)" in summary
    assert "error ratio 0.06 > 0.01" in summary


def test_errors_within_the_ratio_pass():
    probes = [Probe(10.0)] * 99 + [Probe(10.0, "HTTP 500")]
    assert verdict(probes, LIMITS)[0]


def test_a_slow_p99_fails():
    passed, summary = verdict([Probe(10.0)] * 49 + [Probe(900.0)], LIMITS)
    assert not passed
    assert "p99 900 ms > 500 ms" in summary


def test_no_probes_never_pass():
    assert verdict([], LIMITS) == (False, "no probe was sent")


@pytest.fixture
def route():
    with FakeTagRoute("house-price-v2").running() as running:
        yield running


def test_probes_send_a_valid_row_after_one_warm_up(route):
    probes = probe(route.url, "house-price-v2", 3)
    assert [p.problem for p in probes] == [None, None, None]
    assert route.bodies == [[SAMPLE_ROW]] * 4
    assert all(p.latency_ms > 0 for p in probes)


def test_a_failing_revision_is_reported_per_probe(route):
    route.status = 503
    assert [p.problem for p in probe(route.url, "house-price-v2", 2)] == ["HTTP 503"] * 2


def test_an_answer_from_another_revision_counts_as_an_error(route):
    route.revision = "house-price-v1"
    probes = probe(route.url + "/", "house-price-v2", 2)
    assert [p.problem for p in probes] == ["answered by house-price-v1"] * 2


def test_no_server_is_an_error_not_a_crash():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, never listening: refused
        probes = probe(url, "house-price-v2", 1)
    assert probes[0].problem == "no answer (ConnectionError)"


def test_the_real_predictor_answers_the_probes_as_the_gate_expects():
    model = MODEL_DATA / "model-v2.onnx"
    process, url = start_server(K_REVISION="house-price-v2", MODEL_PATH=str(model))
    try:
        wait_ready(process, url)
        probes = probe(url, "house-price-v2", 3)
    finally:
        stop(process)
    assert [p.problem for p in probes] == [None] * 3  # 200, X-Revision: house-price-v2
