"""Knative's autoscaler (loadtest/kpa.py) against a load shape and a measured capacity curve.

One step a second, the collector's scrape interval (collector.go:37). Each second: requests
arrive at the shape's rate; the ready pods serve them up to what the curve says a pod serves at
`containerConcurrency`; the rest wait, first in first out, at the activator or the queue-proxy.
The revision's concurrency (in the pods plus waiting, which the activator and the queue-proxy
both count: collector.go:389-398) goes into the stable and panic windows; the decider ticks every
2 s (multiscaler.go:36), at once when requests reach a revision at zero (multiscaler.go:351-364),
and the reconciler applies its scale (scaler.go). A new pod is ready `cold_start_s` after the
reconciler asks for it.

Latency: a pod carrying concurrency c answers at the curve's p99 for c (interpolated; below one
request in flight, the p99 of one); a request that waited adds its wait in the fluid queue, for
each tenth of the second it arrived in. Requests that arrive while no pod is ready wait for a
cold start; like the load test's `[cold]` requests (loadtest/coldstart.py) they are counted
apart, and the p99 takes them in only when asked (`Run.p99_ms(cold=True)`).
"""

from dataclasses import dataclass, field

from loadtest.curve import Capacity
from loadtest.kpa import (
    TARGET_MIN,
    TICK_S,
    Autoscaler,
    Collector,
    DeciderSpec,
    PodAutoscaler,
    ScaleBounds,
    first_excess_burst_capacity,
)
from loadtest.shapes import SHAPES, Load

USERS = 100  # shapes are stage tables of users; the rate is peak x users / USERS
SPAWN_SECONDS = 2  # locust.conf: 10 users at 5 per second reach full load in 2 s
PAUSE_WINDOW_S = 90  # coldstart pauses for this + 10 s: Knative's default scale-to-zero window


@dataclass(frozen=True)
class Settings:
    """The Service's autoscaling annotations and containerConcurrency, in Knative's terms."""

    container_concurrency: int
    target: float  # autoscaling.knative.dev/target (concurrency per pod)
    utilization: float  # target-utilization-percentage / 100
    min_scale: int = 0
    max_scale: int = 0
    initial_scale: int = 1
    scale_down_delay_s: float = 0.0
    retention_s: float = 0.0  # scale-to-zero-pod-retention-period
    stable_window_s: float = 60.0
    grace_s: float = 30.0  # config-autoscaler scale-to-zero-grace-period
    target_burst_capacity: float = 211.0

    def decider(self) -> DeciderSpec:
        """resources/target.go:444-474 ResolveMetricTarget: total = min(target, cc), target =
        total x utilization; resources/decider.go:50-92 MakeDecider with config.go's defaults."""
        total = min(self.target, self.container_concurrency or self.target)
        return DeciderSpec(
            target_value=max(TARGET_MIN, total * self.utilization),
            total_value=total,
            target_burst_capacity=self.target_burst_capacity,
            stable_window_s=self.stable_window_s,
            scale_down_delay_s=self.scale_down_delay_s,
        )

    def bounds(self) -> ScaleBounds:
        return ScaleBounds(
            min_scale=self.min_scale,
            max_scale=self.max_scale,
            initial_scale=self.initial_scale,
            scale_to_zero_grace_s=self.grace_s,
            scale_to_zero_retention_s=self.retention_s,
            stable_window_s=self.stable_window_s,
            target_burst_capacity=self.target_burst_capacity,
        )

    def scale_to_zero_window_s(self) -> float:
        """Silence after which the revision may be at zero: stable window, then the longer of
        grace and retention (scaler.go:214-260)."""
        return self.stable_window_s + max(self.grace_s, self.retention_s)


@dataclass
class Interval:
    t_s: int
    rate: float
    pods: int  # that exist (starting or ready): what the nodes hold
    ready: int
    concurrency_per_pod: float
    p99_ms: float | None  # None: nothing served warm in this second
    waited: float  # requests that arrived and could not be served in their second
    cold: float  # requests that arrived while no pod was ready


@dataclass
class Run:
    shape: str
    settings: Settings
    intervals: list[Interval] = field(default_factory=list)
    served: float = 0.0
    cold_wait_s: float = 0.0  # the longest wait of a request that arrived with no pod ready
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (ms, requests), warm
    cold_latencies: list[tuple[float, float]] = field(default_factory=list)

    @property
    def pod_seconds(self) -> float:
        return float(sum(x.pods for x in self.intervals))

    @property
    def cold(self) -> float:
        return sum(x.cold for x in self.intervals)

    @property
    def waited(self) -> float:
        return sum(x.waited for x in self.intervals)

    @property
    def max_pods(self) -> int:
        return max((x.pods for x in self.intervals), default=0)

    def p99_ms(self, cold: bool = False) -> float:
        """Over warm requests, as the load test's SLO gate judges; with `cold`, over all."""
        return percentile(self.latencies + (self.cold_latencies if cold else []), 0.99)


def percentile(weighted: list[tuple[float, float]], q: float) -> float:
    """The q-quantile of values given with their weights (requests)."""
    total = sum(w for _, w in weighted)
    if total <= 0:
        return 0.0
    seen = 0.0
    for value, weight in sorted(weighted):
        seen += weight
        if seen >= q * total:
            return value
    return sorted(weighted)[-1][0]


def rates(shape: str, peak_rps: float, duration_s: int) -> list[float]:
    """Requests per second, second by second: the shape's users (ramping at the locust.conf
    spawn rate) as a share of USERS, times the peak rate. The coldstart pause is the same for
    every setting (stable window + grace by default, 100 s), so that retention is put to test."""
    load = Load(USERS, duration_s, USERS / SPAWN_SECONDS, PAUSE_WINDOW_S)
    table = SHAPES[shape](load)
    users, out = 0.0, []
    for t in range(duration_s):
        stage = table.stage_at(t)
        want, spawn = stage if stage else (0, USERS)
        users = min(want, users + spawn) if want > users else max(want, users - spawn)
        out.append(peak_rps * users / USERS)
    return out


def duration_for(shape: str, active_s: int = 300) -> int:
    """Five minutes of load, or, for coldstart, two of them around its pause."""
    return 2 * active_s + PAUSE_WINDOW_S + 10 + 1 if shape == "coldstart" else active_s


def simulate(
    shape: str,
    peak_rps: float,
    capacity: Capacity,
    settings: Settings,
    cold_start_s: float,
    duration_s: int | None = None,
) -> Run:
    """Run the shape through the KPA; bounded by the shape's duration, one step a second."""
    duration = duration_s or duration_for(shape)
    spec, bounds = settings.decider(), settings.bounds()
    # A new revision: its initial pods became ready and the PA Active before the load starts.
    first = max(settings.initial_scale, settings.min_scale)
    pods: list[float] = [0.0] * first  # the time each pod is ready
    autoscaler = Autoscaler(spec, ready_pods=0)  # autoscaler.go:101-106: made before any pod
    collector = Collector(spec.stable_window_s)
    pa = PodAutoscaler(bounds, replicas=first, active="active", initialized=True)
    desired, ebc = -1, first_excess_burst_capacity(spec, settings.initial_scale)
    limit = settings.container_concurrency or capacity.levels[-1].concurrency
    per_pod_rps = capacity.rps_at(limit)
    backlog, cold_since, cold_count = 0.0, None, 0.0  # waiting; the cold ones since when
    run = Run(shape, settings)
    for t, rate in enumerate(rates(shape, peak_rps, duration)):
        ready = sum(1 for ready_at in pods if ready_at <= t)
        capacity_now = ready * per_pod_rps
        cold = rate if ready == 0 else 0.0
        if cold and cold_since is None:
            cold_since = t
        cold_count += cold
        if ready and cold_since is not None:  # the first pod is up: the cold ones drain now
            wait = t - cold_since + backlog / capacity_now
            run.cold_wait_s = max(run.cold_wait_s, wait)
            run.cold_latencies.append((1000.0 * wait, cold_count))
            cold_since, cold_count = None, 0.0
        served = min(backlog + rate, capacity_now)
        per_pod = capacity.concurrency_for(served / ready, limit) if ready else 0.0
        warm, waited = [], 0.0
        if ready and rate:
            own = capacity.p99_at(per_pod)
            slice_waits = waits(backlog, rate, capacity_now)
            warm = [(own + 1000.0 * wait, rate / SLICES) for wait in slice_waits]
            waited = rate / SLICES * sum(1 for wait in slice_waits if wait > 0)
            run.latencies.extend(warm)
        backlog = backlog + rate - served
        run.served += served
        if ready or backlog:  # collector.go:332-334, and the activator's own reports
            collector.record(t, ready * per_pod + backlog)
        windows = collector.stable_and_panic(t)
        poke = desired == 0 and backlog > 0  # multiscaler.go:361-363
        if windows is not None and (t % TICK_S == 0 or poke):
            result = autoscaler.scale(t, ready, *windows)
            desired, ebc = result.desired_pods, result.excess_burst_capacity
        pa.reconcile(t, desired, ebc, ready)
        pods = resize(pods, pa.replicas, t + cold_start_s)
        p99 = percentile(warm, 0.99) if warm else None
        run.intervals.append(Interval(t, rate, len(pods), ready, per_pod, p99, waited, cold))
    return run


SLICES = 10  # each second's arrivals, in tenths


def waits(backlog: float, rate: float, capacity: float) -> list[float]:
    """Seconds that requests arriving at each tenth of a second wait behind the backlog, when
    `capacity` requests a second are served first in, first out (a fluid queue)."""
    return [max(0.0, backlog + (rate - capacity) * s) / capacity
            for s in ((i + 0.5) / SLICES for i in range(SLICES))]  # fmt: skip


def resize(pods: list[float], replicas: int, ready_at: float) -> list[float]:
    """The ReplicaSet's pods after a scale: new ones ready at `ready_at`; fewer removes the
    ones not yet ready first."""
    if replicas >= len(pods):
        return pods + [ready_at] * (replicas - len(pods))
    return sorted(pods)[: max(replicas, 0)]
