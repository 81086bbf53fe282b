"""The probes, before each traffic step: real predictions sent to the candidate's tag URL.

Each probe must answer 200 with ``X-Revision`` naming the candidate; the share of probes that
don't, and the 99th percentile latency, are held against thresholds. One warm-up request goes
first and is not counted: a revision at 0 % has been scaled to zero and its first answer waits
for a pod to start (knative/serving#10355).
"""

import math
import time
from dataclasses import dataclass

import requests

from knative.deadline import NO_ANSWER, no_answer, session, within
from knative.gates.checks import Check, GateRun
from knative.gates.predictor import PROBE_ROWS, PROBE_TIMEOUT, WARM_UP_TIMEOUT, wrong_answer
from knative.gates.settings import GateSettings


@dataclass(frozen=True)
class Probe:
    latency_ms: float
    problem: str | None = None  # None when the probe answered as it should


def probe(url: str, revision: str, count: int) -> list[Probe]:
    """Warm the candidate up, then send ``count`` predictions to ``url`` and time each."""
    endpoint = url.rstrip("/") + "/predict"
    with session() as http:
        _send(http, endpoint, revision, WARM_UP_TIMEOUT)
        return [_send(http, endpoint, revision, PROBE_TIMEOUT) for _ in range(count)]


def _send(http: requests.Session, endpoint: str, revision: str, timeout: float) -> Probe:
    started = time.perf_counter()
    try:
        response = within(http, "POST", endpoint, timeout, json=PROBE_ROWS)
    except NO_ANSWER as exc:
        return Probe(_ms_since(started), f"no answer ({no_answer(exc)})")
    return Probe(_ms_since(started), wrong_answer(response, revision))


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def p99(latencies_ms: list[float]) -> float:
    """The 99th percentile by nearest rank (with 50 probes: the slowest one)."""
    ranked = sorted(latencies_ms)
    return ranked[max(math.ceil(0.99 * len(ranked)) - 1, 0)]


def verdict(probes: list[Probe], limits: GateSettings) -> tuple[bool, str]:
    """Whether the probes pass, and a one-line summary an operator reads."""
    if not probes:
        return False, "no probe was sent"
    failed = [p.problem for p in probes if p.problem]
    ratio, slowest = len(failed) / len(probes), p99([p.latency_ms for p in probes])
    summary = f"{len(probes) - len(failed)}/{len(probes)} probes ok, p99 {slowest:.0f} ms"
    if failed:
        counts = {problem: failed.count(problem) for problem in failed}
        summary += " (" + ", ".join(f"{n}x {problem}" for problem, n in counts.items()) + ")"
    if ratio > limits.max_error_ratio:
        return False, f"{summary}: error ratio {ratio:.2f} > {limits.max_error_ratio:g}"
    if slowest > limits.max_p99_ms:
        return False, f"{summary}: p99 {slowest:.0f} ms > {limits.max_p99_ms:g} ms"
    return True, summary


def probes_gate(url: str, candidate: str, step: int, limits: GateSettings) -> GateRun:
    """Probe ``candidate`` at ``url`` before ``step``: one check, whose line is the summary."""
    started = time.perf_counter()
    answers = probe(url, candidate, limits.probe_requests)
    passed, summary = verdict(answers, limits)
    failed = sum(1 for answer in answers if answer.problem)
    numbers = {"sent": len(answers), "failed": failed}
    if answers:
        numbers["p99_ms"] = p99([answer.latency_ms for answer in answers])
    check = Check("probes", passed, summary, numbers)
    return GateRun("probes", step, [check], 1 + len(answers), time.perf_counter() - started)
