"""The SLO gate: after the run, compare latency, failures and throughput with thresholds."""

from argparse import Namespace
from dataclasses import dataclass

from locust import log
from locust.env import Environment
from locust.runners import WorkerRunner
from locust.stats import RequestStats, StatsEntry

from loadtest.coldstart import COLD_SUFFIX


@dataclass(frozen=True)
class Slo:
    p95_ms: float
    p99_ms: float
    max_failure_ratio: float
    min_rps: float

    @classmethod
    def from_options(cls, options: Namespace) -> "Slo":
        return cls(
            options.slo_p95_ms, options.slo_p99_ms, options.slo_failure_ratio, options.slo_min_rps
        )


def merged(stats: RequestStats, cold: bool) -> StatsEntry:
    """The cold requests (which the coldstart shape measures apart), or all the warm ones."""
    entry = StatsEntry(stats, "cold" if cold else "warm", "", use_response_times_cache=False)
    for (name, _method), stats_entry in stats.entries.items():
        if name.endswith(COLD_SUFFIX) == cold:
            entry.extend(stats_entry)
    return entry


def verdict(stats: RequestStats, slo: Slo, exceptions: int = 0) -> tuple[list[str], list[str]]:
    """(breaches, passes): one line per check, naming the measured value and the threshold."""
    if stats.total.num_requests == 0:
        return ["no requests were made"], []
    latency = merged(stats, cold=False)
    at_most = [
        ("p95", latency.get_response_time_percentile(0.95), slo.p95_ms, " ms"),
        ("p99", latency.get_response_time_percentile(0.99), slo.p99_ms, " ms"),
        ("failure ratio", stats.total.fail_ratio, slo.max_failure_ratio, ""),
        ("locustfile exceptions", exceptions, 0, ""),
    ]
    at_least = [("throughput", stats.total.total_rps, slo.min_rps, " req/s")]
    breaches, passes = [], []
    for checks, minimum in ((at_most, False), (at_least, True)):
        for name, measured, threshold, unit in checks:
            ok = measured >= threshold if minimum else measured <= threshold
            sign = (">=" if ok else "<") if minimum else ("<=" if ok else ">")
            line = f"{name} {measured:.4g}{unit} {sign} {threshold:.4g}{unit}"
            (passes if ok else breaches).append(line)
    return breaches, passes


def gate(environment: Environment, **_kwargs: object) -> None:
    """locust `quitting` listener: exit code 1 on a breach; never sets 0 (a crash stays a crash)."""
    runner = environment.runner
    if runner is None or isinstance(runner, WorkerRunner):
        return  # workers hold no aggregated stats; the master judges
    exceptions = sum(row["count"] for row in runner.exceptions.values())
    breaches, passes = verdict(
        environment.stats, Slo.from_options(environment.parsed_options), exceptions
    )
    # Once a request failed, locust exits with exit-code-on-error (0 in locust.conf), crash or not.
    if log.unhandled_greenlet_exception:
        breaches.append("a listener or greenlet crashed (traceback in the log above)")
    for line in breaches:
        print(f"SLO BREACH: {line}")
    if breaches:
        environment.process_exit_code = 1
    else:
        print("SLO met: " + "; ".join(passes))
    total = environment.stats.total  # on a master: every worker's requests
    print(f"requests judged: {total.num_requests} ({total.num_failures} failed)")
    cold = merged(environment.stats, cold=True)
    if cold.num_requests:
        print(
            f"cold requests (not gated): {cold.num_requests}, "
            f"median {cold.median_response_time} ms, max {cold.max_response_time:.0f} ms"
        )
