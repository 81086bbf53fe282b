"""A misbehaving API server: slow, failing, resetting, losing answers. The real kubernetes
client against the fake API over HTTP; retries pause on a fake clock, timeouts are real."""

import socket
import time

import pytest

from knative.errors import RolloutError, WriteFailed
from knative.kube.calls import BACKOFF, Calls, connect
from knative.kube.service import KnativeService
from knative.traffic.plan import parse_traffic
from tests.rollout.fake_knative_api import FakeKnative
from tests.rollout.shared import REQUEST_TIMEOUT, V1, V2

NEW = [{"revisionName": V1, "percent": 60}, {"revisionName": V2, "percent": 40}]


def write(service: KnativeService) -> dict:
    return service.update(lambda fresh: {"traffic": NEW}, lambda fresh: None)


@pytest.mark.parametrize("fault", ["slow", "reset", 500, 503, 429])
def test_a_read_is_retried_after_a_transient_fault(knative, service, clock, fault, capsys):
    knative.fail("GET", fault)
    assert service.get()["metadata"]["name"] == "house-price"
    assert clock.sleeps == [BACKOFF[0]]
    assert capsys.readouterr().err.startswith("read service: ")


def test_a_dead_api_server_is_given_up_on_within_the_bound(knative, service, clock):
    knative.fail("GET", "slow", times=3)
    started = time.monotonic()
    with pytest.raises(RolloutError) as gave_up:
        service.get()
    waited = time.monotonic() - started
    assert str(gave_up.value) == (
        f"could not read service: the API server did not answer "
        f"(no answer within {REQUEST_TIMEOUT:g} s; 3 attempts)"
    )
    assert clock.sleeps == list(BACKOFF)
    assert 3 * REQUEST_TIMEOUT <= waited < 3 * REQUEST_TIMEOUT + 1.5  # three timeouts, no more


def test_a_refused_connection_is_retried_then_named(tmp_path, clock):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: every connection is refused
        dead = FakeKnative()
        dead.url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        with connect(dead.kubeconfig(tmp_path / "kubeconfig"), None) as api_client:
            service = KnativeService(api_client, "house-price", "house-price", Calls(clock))
            with pytest.raises(RolloutError) as gave_up:
                service.get()
    assert str(gave_up.value) == (
        "could not read service: the API server did not answer "
        "(cannot connect: Connection refused; 3 attempts)"
    )
    assert clock.sleeps == list(BACKOFF)


def test_a_client_error_is_not_retried(knative, service, clock):
    knative.fail("GET", 403)
    with pytest.raises(RolloutError, match="could not read service: the API answered 403"):
        service.get()
    assert clock.sleeps == []


@pytest.mark.parametrize("fault", ["lost", "slow"])
def test_a_write_whose_answer_is_lost_is_done_once(knative, service, clock, fault):
    knative.fail("PATCH", fault)  # applied, but the answer never arrives in time
    written = write(service)
    assert knative.traffic() == NEW and knative.traffic_history == [NEW]  # written once
    assert parse_traffic(written["spec"]["traffic"], None).percent(V2) == 40
    assert len(knative.patches()) == 2  # the repeat answered 409: already there
    assert clock.sleeps == [BACKOFF[0]]


def test_a_lost_answer_and_no_answer_after_it_is_read_back_as_done(knative, service):
    knative.fail("PATCH", "lost")
    knative.fail("PATCH", "reset", times=2)
    written = write(service)
    assert written["spec"]["traffic"] == NEW == knative.traffic()


def test_a_write_that_did_not_land_says_what_the_api_holds(knative, service):
    before = knative.traffic()
    knative.fail("PATCH", 503, times=3)
    with pytest.raises(WriteFailed) as failed:
        write(service)
    assert "could not patch service: the API answered 503" in str(failed.value)
    assert failed.value.found["spec"]["traffic"] == before == knative.traffic()


def test_a_write_whose_outcome_cannot_be_read_back_says_so(knative, service):
    knative.fail("PATCH", "lost")
    knative.fail("PATCH", 503, times=2)
    knative.before_patch.append(lambda: knative.fail("GET", 503, times=3))  # down after the write
    with pytest.raises(WriteFailed, match="reading it back failed too") as failed:
        write(service)
    assert failed.value.found is None
    assert knative.traffic() == NEW  # it had landed: nobody may claim the old split
