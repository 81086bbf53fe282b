"""``knative/deadline.py``: a whole HTTP call bounded, for ``requests`` (probes, quality batches,
Prometheus, doctor) as for the Kubernetes client (``tests/rollout/commands/test_deadlines.py``)."""

import pytest

from knative.deadline import DeadlineExceeded, no_answer, session, within
from knative.gates.probes import probe
from tests.rollout.fake_tag_route import FakeTagRoute
from tests.rollout.shared import V2
from tests.support.drip import DripProxy, ended_within


@pytest.fixture
def congested_route():
    with FakeTagRoute(V2, "v2").running() as route, DripProxy(route.url).running() as proxy:
        yield route, proxy


def test_an_answer_dripped_a_byte_at_a_time_is_cut_at_the_deadline(congested_route):
    _, proxy = congested_route
    proxy.drip("POST", "/predict")
    with session() as http, pytest.raises(DeadlineExceeded) as cut:
        ended_within(5, lambda: within(http, "POST", f"{proxy.url}/predict", 0.5, json=[{}]))
    assert no_answer(cut.value) == "no answer within 0.5 s"


def test_the_session_goes_on_after_a_cut_and_a_whole_answer_is_not_cut(congested_route):
    _, proxy = congested_route
    proxy.drip("POST", "/predict")
    with session() as http:
        with pytest.raises(DeadlineExceeded):
            within(http, "POST", f"{proxy.url}/predict", 0.3, json=[{}])
        answer = within(http, "POST", f"{proxy.url}/predict", 5, json=[{}])
    assert answer.status_code == 400 and "expected a list of records" in answer.json()["error"]


def test_a_dripping_probe_is_a_failed_probe_not_a_hang(congested_route, monkeypatch):
    _, proxy = congested_route
    monkeypatch.setattr("knative.gates.probes.WARM_UP_TIMEOUT", 0.5)
    monkeypatch.setattr("knative.gates.probes.PROBE_TIMEOUT", 0.5)
    proxy.drip("POST", "/predict", times=2)  # the warm-up and the first probe
    probes = ended_within(10, lambda: probe(proxy.url, V2, 3))
    assert [p.problem for p in probes] == ["no answer (no answer within 0.5 s)", None, None]
