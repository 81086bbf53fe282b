from types import SimpleNamespace

import pytest
from locust import log
from locust.env import Environment

from loadtest import slo
from loadtest.slo import Slo

LENIENT = Slo(p95_ms=300, p99_ms=1000, max_failure_ratio=0.05, min_rps=1)


def environment(times_ms=(), failures=0, cold_ms=(), seconds=10.0, options=LENIENT):
    """An Environment whose stats hold synthetic requests spread over `seconds`."""
    env = Environment(
        parsed_options=SimpleNamespace(
            slo_p95_ms=options.p95_ms,
            slo_p99_ms=options.p99_ms,
            slo_failure_ratio=options.max_failure_ratio,
            slo_min_rps=options.min_rps,
        )
    )
    env.create_local_runner()
    for ms in times_ms:
        env.stats.log_request("POST", "/predict", ms, 20)
    for ms in cold_ms:
        env.stats.log_request("POST", "/predict [cold]", ms, 20)
    for _ in range(failures):
        env.stats.log_request("POST", "/predict", 5, 0)
        env.stats.log_error("POST", "/predict", "HTTP 503")
    if env.stats.total.last_request_timestamp:
        env.stats.total.start_time = env.stats.total.last_request_timestamp - seconds
    return env


def test_a_run_within_the_slo_passes_and_names_each_measure():
    env = environment(times_ms=[10] * 97 + [200] * 3)
    breaches, passes = slo.verdict(env.stats, LENIENT)
    assert breaches == []
    assert passes == [
        "p95 10 ms <= 300 ms",
        "p99 200 ms <= 1000 ms",
        "failure ratio 0 <= 0.05",
        "locustfile exceptions 0 <= 0",
        "throughput 10 req/s >= 1 req/s",
    ]


@pytest.mark.parametrize(
    ("times_ms", "failures", "seconds", "breach"),
    [
        ([10] * 90 + [500] * 10, 0, 10, "p95 500 ms > 300 ms"),
        ([10] * 98 + [2000] * 2, 0, 10, "p99 2000 ms > 1000 ms"),
        ([10] * 90, 10, 10, "failure ratio 0.1 > 0.05"),
        ([10] * 50, 0, 100, "throughput 0.5 req/s < 1 req/s"),
    ],
)
def test_each_threshold_breaks_on_its_own(times_ms, failures, seconds, breach):
    env = environment(times_ms=times_ms, failures=failures, seconds=seconds)
    breaches, _ = slo.verdict(env.stats, LENIENT)
    assert breaches == [breach]


def test_cold_requests_are_left_out_of_the_latency_percentiles():
    env = environment(times_ms=[10] * 100, cold_ms=[4000] * 10)
    breaches, passes = slo.verdict(env.stats, LENIENT)
    assert breaches == []
    assert "p99 10 ms <= 1000 ms" in passes
    assert env.stats.total.get_response_time_percentile(0.99) == 4000  # locust's own view


def test_gate_reports_cold_requests_apart(capsys):
    env = environment(times_ms=[10] * 100, cold_ms=[2000, 3000, 4000])
    slo.gate(env)
    assert env.process_exit_code is None
    out = capsys.readouterr().out
    assert "cold requests (not gated): 3, median 3000 ms, max 4000 ms" in out
    assert "requests judged: 103 (0 failed)" in out  # warm and cold: every request counts


def test_exceptions_in_the_locustfile_are_a_breach():
    env = environment(times_ms=[10] * 100)
    assert slo.verdict(env.stats, LENIENT, exceptions=2)[0] == ["locustfile exceptions 2 > 0"]


def test_a_run_without_requests_is_a_breach():
    env = environment()
    assert slo.verdict(env.stats, LENIENT) == (["no requests were made"], [])


def test_gate_sets_exit_code_1_and_prints_what_broke(capsys):
    env = environment(times_ms=[10] * 100, options=Slo(5, 1000, 0.05, 1))
    slo.gate(env)
    assert env.process_exit_code == 1
    assert "SLO BREACH: p95 10 ms > 5 ms" in capsys.readouterr().out


def test_gate_never_sets_a_passing_exit_code(capsys):
    env = environment(times_ms=[10] * 100)
    slo.gate(env)
    assert env.process_exit_code is None  # locust decides: crashes and errors keep their code
    assert capsys.readouterr().out.startswith("SLO met: p95 10 ms <= 300 ms")


def test_gate_counts_exceptions_the_runner_caught():
    env = environment(times_ms=[10] * 100)
    env.runner.exceptions[1] = {
        "count": 3,
        "msg": "KeyError('RM')",
        "traceback": "",
        "nodes": set(),
    }
    slo.gate(env)
    assert env.process_exit_code == 1


def test_gate_fails_a_run_in_which_a_listener_crashed(monkeypatch, capsys):
    monkeypatch.setattr(log, "unhandled_greenlet_exception", False)  # restored after the test
    env = environment(times_ms=[10] * 100, failures=1)  # a failure: locust alone would exit 0

    def broken_listener(**_kwargs):
        raise KeyError("RM")

    env.events.request.add_listener(broken_listener)
    env.events.request.fire(
        request_type="POST", name="/predict", response_time=10, response_length=20, exception=None
    )
    slo.gate(env)
    assert env.process_exit_code == 1
    assert "SLO BREACH: a listener or greenlet crashed" in capsys.readouterr().out


def test_the_pytest_process_keeps_unpatched_sockets():
    from gevent import monkey

    assert not monkey.is_module_patched("socket")
