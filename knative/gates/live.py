"""The live-traffic gate: once a step has carried real traffic for ``--interval``, the candidate's
error ratio, p99 and predictions (``prediction_shift.py``) over that window, from the predictor's
own metrics in Prometheus (labelled by revision), against absolute limits and against the
incumbent's over the same window.

Too few requests or predictions in the window is its own outcome, never a pass: wait (bounded),
or fail.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from knative.gates import prediction_shift
from knative.gates.checks import Check, GateRun
from knative.gates.prediction_shift import Predictions, shift_check
from knative.gates.prometheus import Prometheus, PrometheusError
from knative.gates.settings import GateSettings
from knative.text import percent

LATENCY_SLACK_MS = 25.0  # p99s this close are equal: one slow request moves a p99 that far


def queries(revisions: list[str], seconds: int) -> dict[str, str]:
    """The PromQL the gate runs (knative/README.md shows it for Prometheus and Grafana)."""
    # kind="prediction": the predictor's own word for a prediction request (function/metrics.py);
    # health checks, scrapes and pages are "other"
    match = f'revision=~"{"|".join(revisions)}",kind="prediction"'
    window = f"[{seconds}s]"
    requests = f"house_price_requests_total{{{match}}}"
    errors = f'house_price_requests_total{{{match},status=~"5.."}}'
    buckets = f"house_price_request_duration_seconds_bucket{{{match}}}"
    return {
        "requests": f"sum by (revision) (increase({requests}{window}))",
        "errors": f"sum by (revision) (increase({errors}{window}))",
        "p99": f"histogram_quantile(0.99, sum by (revision, le) (rate({buckets}{window})))",
    }


def preflight(prometheus: Prometheus, incumbent: str) -> str:
    """Prometheus answers and scrapes the incumbent: a line saying so, else PrometheusError."""
    version = prometheus.version()
    if not prometheus.query(f'house_price_model_info{{revision="{incumbent}"}}'):
        raise PrometheusError(
            f"Prometheus at {prometheus.url} has no house_price_model_info of {incumbent}: it "
            "does not scrape the predictor's pods, or none runs (see cluster/README.md)"
        )
    return f"live: Prometheus {version} at {prometheus.url} scrapes {incumbent}"


@dataclass(frozen=True)
class Window:
    seconds: int
    requests: dict[str, float]
    errors: dict[str, float]
    p99_ms: dict[str, float]
    predictions: dict[str, Predictions] = field(default_factory=dict)


def measure(prometheus: Prometheus, revisions: list[str], seconds: int) -> Window:
    found = {name: prometheus.query(q) for name, q in queries(revisions, seconds).items()}
    p99_ms = {revision: value * 1000 for revision, value in found["p99"].items()}
    buckets = prometheus.query_by(prediction_shift.query(revisions, seconds), ("revision", "le"))
    predictions = prediction_shift.by_revision(buckets)
    return Window(seconds, found["requests"], found["errors"], p99_ms, predictions)


def live_gate(
    prometheus: Prometheus,
    clock: Any,
    names: tuple[str, str],
    step: int,
    limits: GateSettings,
) -> GateRun:
    """Wait ``--interval`` on ``clock``, then judge the window: a GateRun.

    With too few requests, ``--on-no-data wait`` waits in intervals, judging the whole time
    since the step, until there are enough or ``no_data_timeout`` more seconds have passed.
    """
    candidate, incumbent = names
    interval = limits.interval
    started, since, sent = time.perf_counter(), clock.monotonic(), 0
    clock.sleep(interval)
    while True:
        seconds = max(1, int(clock.monotonic() - since))  # within the step
        window, sent = measure(prometheus, [candidate, incumbent], seconds), sent + 4
        checks = window_checks(window, candidate, incumbent, limits)
        if checks[0].passed:
            checks.append(shift_check(window.predictions, candidate, incumbent, limits))
        short = [check for check in checks if check.passed is False and _no_data(check)]
        extra = clock.monotonic() - since - interval
        if short and limits.on_no_data == "wait" and extra < limits.no_data_timeout:
            pause = min(interval, limits.no_data_timeout - extra)
            print(f"live after step {step}: {short[0].line}; waiting {pause:.0f} s more")
            clock.sleep(pause)
            continue
        if short:
            note = f" after {seconds} s (--on-no-data {limits.on_no_data})"
            checks = [replace(c, line=c.line + note) if c is short[0] else c for c in checks]
        return GateRun("live", step, checks, sent, time.perf_counter() - started)


def _no_data(check: Check) -> bool:
    """Whether ``check`` has no verdict for lack of data (the traffic check, or too few
    predictions)."""
    return check.name == "traffic" or check.numbers.get("enough") is False


def window_checks(
    window: Window, candidate: str, incumbent: str, limits: GateSettings
) -> list[Check]:
    """The traffic check first (enough requests for a verdict?), then error ratio and p99."""
    count = window.requests.get(candidate, 0.0)
    enough = count >= limits.min_requests
    line = (
        f"{candidate} answered {count:.0f} requests in the last {window.seconds} s, "
        f"{incumbent} {window.requests.get(incumbent, 0.0):.0f} (at least {limits.min_requests} "
        "wanted for a verdict) " + ("ok" if enough else "FAILED: not enough data")
    )
    traffic = Check("traffic", enough, line, {"seconds": window.seconds, **window.requests})
    if not enough:
        return [traffic]
    comparable = window.requests.get(incumbent, 0.0) >= limits.min_requests
    ratios = {rev: window.errors.get(rev, 0.0) / n for rev, n in window.requests.items() if n}
    theirs = (ratios.get(incumbent), window.p99_ms.get(incumbent)) if comparable else (None, None)
    return [
        traffic,
        _error_ratio(ratios.get(candidate, 0.0), incumbent, theirs[0], limits),
        _p99(window.p99_ms.get(candidate, math.inf), incumbent, theirs[1], limits),
    ]


def _error_ratio(value: float, incumbent: str, theirs: float | None, limits: GateSettings) -> Check:
    bounds = {"--max-error-ratio": limits.max_error_ratio}
    if theirs is not None:
        margin = limits.error_ratio_margin
        bounds[f"{incumbent} +{percent(margin, 2)}"] = theirs + margin
    return _bounded("error ratio", value, (incumbent, theirs), bounds, lambda x: percent(x, 2))


def _p99(value: float, incumbent: str, theirs: float | None, limits: GateSettings) -> Check:
    bounds = {"--max-p99-ms": limits.max_p99_ms}
    if theirs is not None:
        factor = 1 + limits.latency_tolerance
        relative = max(theirs * factor, theirs + LATENCY_SLACK_MS)
        bounds[f"{incumbent} x{factor:g}, or +{LATENCY_SLACK_MS:g} ms if more"] = relative
    return _bounded("p99", value, (incumbent, theirs), bounds, lambda x: f"{x:.1f} ms")


def _bounded(
    name: str,
    value: float,
    incumbent: tuple[str, float | None],
    bounds: dict[str, float],
    show: Callable[[float], str],
) -> Check:
    """``value`` held against the lowest of ``bounds``; ``show`` formats a number."""
    bound, limit = min(bounds.items(), key=lambda item: item[1])
    who, theirs = incumbent
    other = f"{who} {show(theirs)}" if theirs is not None else f"{who}: too few requests to compare"
    passed = value <= limit
    verdict = "ok" if passed else f"FAILED: {show(value - limit)} over"
    line = f"{name} {show(value)} ({other}; limit {show(limit)} = {bound}) {verdict}"
    return Check(name, passed, line, {"value": value, "incumbent": theirs, "limit": limit})
