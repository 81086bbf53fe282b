"""The live gate's judgement of one window of numbers (pure), and the PromQL it runs."""

import pytest

from knative.gates.live import Window, queries, window_checks
from knative.gates.settings import GateSettings

V1, V2 = "house-price-v1", "house-price-v2"
LIMITS = GateSettings(min_requests=100)


def window(requests, errors=None, p99_ms=None, seconds=30):
    return Window(seconds, requests, errors or {}, p99_ms or {})


def test_too_few_candidate_requests_is_no_verdict_at_all():
    [traffic] = window_checks(window({V2: 99, V1: 900}), V2, V1, LIMITS)
    assert traffic.passed is False
    assert traffic.line == (
        f"{V2} answered 99 requests in the last 30 s, {V1} 900 (at least 100 wanted for a verdict) "
        "FAILED: not enough data"
    )


def test_no_series_at_all_is_not_enough_data_either():
    assert window_checks(window({}), V2, V1, LIMITS)[0].passed is False


def test_a_healthy_candidate_passes_against_limits_and_the_incumbent():
    checks = window_checks(window({V2: 100, V1: 900}, {V1: 9}, {V2: 3.0, V1: 2.0}), V2, V1, LIMITS)
    assert [(c.name, c.passed) for c in checks] == [
        ("traffic", True),
        ("error ratio", True),
        ("p99", True),
    ]
    assert checks[1].line == (
        f"error ratio 0.00 % ({V1} 1.00 %; limit 1.00 % = --max-error-ratio) ok"
    )
    assert (
        checks[2].line
        == f"p99 3.0 ms ({V1} 2.0 ms; limit 27.0 ms = {V1} x1.5, or +25 ms if more) ok"
    )


def test_errors_above_the_incumbents_by_more_than_the_margin_fail_and_say_by_how_much():
    checks = window_checks(window({V2: 200, V1: 800}, {V2: 2}, {V2: 1.0, V1: 1.0}), V2, V1, LIMITS)
    error_ratio = checks[1]
    assert error_ratio.passed is False
    assert error_ratio.line == (
        f"error ratio 1.00 % ({V1} 0.00 %; limit 0.50 % = {V1} +0.50 %) FAILED: 0.50 % over"
    )
    assert error_ratio.numbers == {"value": 0.01, "incumbent": 0.0, "limit": 0.005}


def test_a_p99_far_above_the_incumbents_fails_though_under_the_absolute_limit():
    checks = window_checks(window({V2: 200, V1: 800}, {}, {V2: 240.0, V1: 100.0}), V2, V1, LIMITS)
    assert checks[2].passed is False
    assert checks[2].line.endswith(
        f"limit 150.0 ms = {V1} x1.5, or +25 ms if more) FAILED: 90.0 ms over"
    )


def test_without_incumbent_traffic_only_the_absolute_limits_apply():
    """After the last step the incumbent carries nothing: there is nothing to compare with."""
    limits = GateSettings(min_requests=100, max_p99_ms=50)
    checks = window_checks(window({V2: 500, V1: 3}, {V2: 4}, {V2: 60.0, V1: 1.0}), V2, V1, limits)
    assert [c.passed for c in checks] == [True, True, False]
    assert (
        f"({V1}: too few requests to compare; limit 1.00 % = --max-error-ratio) ok"
        in checks[1].line
    )
    assert checks[2].line.endswith("limit 50.0 ms = --max-p99-ms) FAILED: 10.0 ms over")


@pytest.mark.parametrize("name", ["requests", "errors", "p99"])
def test_queries_select_the_two_revisions_and_their_predictions_over_the_window(name):
    promql = queries([V2, V1], 30)[name]
    assert f'revision=~"{V2}|{V1}"' in promql and "[30s]" in promql
    assert 'kind="prediction"' in promql
    assert promql.startswith("histogram_quantile(0.99" if name == "p99" else "sum by (revision)")
