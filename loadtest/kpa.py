"""Knative Serving 1.23's pod autoscaler (KPA), modelled from its source: `python -m loadtest.kpa`.

Upstream: github.com/knative/serving at tag knative-v1.23.0 (commit 7ed4aa2ab601). Each rule
cites its file and line there; the short names below are:

  autoscaler.go  pkg/autoscaler/scaling/autoscaler.go       the decider: Scale()
  multiscaler.go pkg/autoscaler/scaling/multiscaler.go      ticks, DeciderSpec, the first status
  window.go      pkg/autoscaler/aggregation/max/window.go   (+ timewindow.go) scale-down delay
  bucketing.go   pkg/autoscaler/aggregation/bucketing.go    stable and panic window averages
  collector.go   pkg/autoscaler/metrics/collector.go        what is recorded, once a second
  config.go      pkg/autoscaler/config/config.go            defaults and validation
  scaler.go      pkg/reconciler/autoscaling/kpa/scaler.go   bounds, initial scale, scale to zero
  kpa.go         pkg/reconciler/autoscaling/kpa/kpa.go      activator in path, Active condition

Times are seconds from any origin >= 0 (Go's time.Time becomes a float). `decide` reads one JSON
object on stdin (DeciderSpec and the inputs of each Scale() call) and prints one line per step.
Its optional `initial` is the autoscaler's state when made, at the first step's time:
`ready_pods` then (more than one starts it in panic mode, holding them), or a panic already
under way (`panic_started_s`, `max_panic_pods`).
"""

import json
import math
import sys
from dataclasses import dataclass
from typing import Any

TICK_S = 2  # multiscaler.go:36 tickInterval: the decider runs every 2 s
SCRAPE_S = 1  # collector.go:37 scrapeTickInterval; config.go:37 BucketSize 1 s
TARGET_MIN = 0.01  # pkg/apis/autoscaling/register.go:87 TargetMin
WINDOW_MIN_S, WINDOW_MAX_S = 6, 3600  # register.go:141,144 WindowMin, WindowMax
ACTIVATION_TIMEOUT_BUFFER_S = 30  # scaler.go:69 activationTimeoutBuffer
SCALE_UNKNOWN = -1  # scaler.go:53 scaleUnknown


class InvalidSpec(ValueError):
    """A setting Knative would reject; the message names it."""


def _check(ok: bool, name: str, rule: str) -> None:
    if not ok:
        raise InvalidSpec(f"{name} {rule}")


def _whole_seconds(value: float) -> bool:
    return float(value).is_integer()


@dataclass(frozen=True)
class DeciderSpec:
    """multiscaler.go:48-85 DeciderSpec, revision-wide; panic_threshold a ratio (2.0 = 200 %)."""

    target_value: float
    total_value: float
    target_burst_capacity: float = 211.0  # config.go:53
    panic_threshold: float = 2.0  # config.go:56 PanicThresholdPercentage 200
    max_scale_up_rate: float = 1000.0  # config.go:50
    max_scale_down_rate: float = 2.0  # config.go:51
    stable_window_s: float = 60.0  # config.go:57
    scale_down_delay_s: float = 0.0  # config.go:60
    activation_scale: int = 0  # resources/decider.go:69-72: 0 unless annotated
    reachable: bool = True

    def __post_init__(self) -> None:
        _check(self.target_value >= TARGET_MIN, "target_value", f"must be >= {TARGET_MIN}")
        _check(self.total_value >= 0, "total_value", "must be >= 0")
        tbc = self.target_burst_capacity  # config.go:131
        _check(tbc >= 0 or tbc == -1, "target_burst_capacity", "must be >= 0 or -1 (unlimited)")
        _check(self.panic_threshold > 0, "panic_threshold", "must be > 0 (a ratio, 2.0 = 200 %)")
        _check(self.max_scale_up_rate > 1, "max_scale_up_rate", "must be > 1")  # config.go:151
        _check(self.max_scale_down_rate > 1, "max_scale_down_rate", "must be > 1")  # :155
        sw = self.stable_window_s  # config.go:161-168
        _check(WINDOW_MIN_S <= sw <= WINDOW_MAX_S and _whole_seconds(sw), "stable_window_s",
               f"must be whole seconds in [{WINDOW_MIN_S}, {WINDOW_MAX_S}]")  # fmt: skip
        sdd = self.scale_down_delay_s  # config.go:119-125
        _check(sdd >= 0 and _whole_seconds(sdd), "scale_down_delay_s", "must be whole seconds >= 0")
        _check(self.activation_scale >= 0, "activation_scale", "must be >= 0")


@dataclass(frozen=True)
class ScaleResult:
    """multiscaler.go:102-111, with the panic state the metrics of autoscaler.go:226,235 report."""

    desired_pods: int
    excess_burst_capacity: int
    in_panic: bool


class DelayWindow:
    """window.go:32-102 + timewindow.go:32-46: the largest value recorded in the last `delay_s`,
    in ceil(delay / granularity) buckets indexed by whole seconds / granularity (autoscaler.go:77
    uses the 2 s tick)."""

    def __init__(self, delay_s: float, granularity_s: int = TICK_S) -> None:
        self.granularity = granularity_s
        self.size = math.ceil(delay_s / granularity_s)  # timewindow.go:33
        self.maxima: list[tuple[int, int]] = []  # (index, value), values descending

    def record(self, now: float, value: int) -> None:
        index = int(now) // self.granularity  # timewindow.go:39
        while self.maxima and value >= self.maxima[-1][1]:  # window.go:53-58
            self.maxima.pop()
        while self.maxima and index - self.maxima[0][0] >= self.size:  # window.go:63-71
            self.maxima.pop(0)
        if self.maxima and self.maxima[-1][0] == index:  # window.go:75-84
            value = max(value, self.maxima.pop()[1])
        self.maxima.append((index, value))  # window.go:89

    def current(self) -> int:
        return self.maxima[0][1]  # window.go:100-102


class Autoscaler:
    """autoscaler.go:45-64: one revision's decider, with its panic state and delay window."""

    def __init__(self, spec: DeciderSpec, ready_pods: int = 0, now: float = 0.0) -> None:
        # autoscaler.go:101-114: made with more than one ready pod, it starts in panic mode,
        # holding the current scale until it has metrics of its own.
        self.spec = spec
        self.panic_started: float | None = now if ready_pods > 1 else None
        self.max_panic_pods = ready_pods  # autoscaler.go:127
        # autoscaler.go:75-78: the delay window is made once, from the first spec (Update()
        # at :133-138 does not make one).
        self.delay = DelayWindow(spec.scale_down_delay_s) if spec.scale_down_delay_s > 0 else None

    def update(self, spec: DeciderSpec) -> None:
        self.spec = spec  # autoscaler.go:133-138

    def scale(
        self, now: float, ready_pods: int, observed_stable: float, observed_panic: float
    ) -> ScaleResult:
        """autoscaler.go:149-313 Scale(), given the ready pods and the windowed metric."""
        spec = self.spec
        ready = max(1.0, ready_pods)  # autoscaler.go:161
        max_up = math.ceil(spec.max_scale_up_rate * ready)  # autoscaler.go:189
        max_down = math.floor(ready / spec.max_scale_down_rate) if spec.reachable else 0  # :191-194
        dspc = math.ceil(observed_stable / spec.target_value)  # autoscaler.go:196
        dppc = math.ceil(observed_panic / spec.target_value)  # autoscaler.go:197
        stable_pods = int(min(max(dspc, max_down), max_up))  # autoscaler.go:207
        panic_pods = int(min(max(dppc, max_down), max_up))  # autoscaler.go:208
        if spec.activation_scale > 1:  # autoscaler.go:211-218
            if dspc > 0 and spec.activation_scale > stable_pods:
                stable_pods = spec.activation_scale
            if dppc > 0 and spec.activation_scale > panic_pods:
                panic_pods = spec.activation_scale

        over_threshold = dppc / ready >= spec.panic_threshold  # autoscaler.go:220
        if over_threshold:  # autoscaler.go:222-229: start panicking, or extend the panic
            self.panic_started = now
        elif self.panic_started is not None and self.panic_started + spec.stable_window_s < now:
            self.panic_started = None  # autoscaler.go:230-235: the surge is in the stable window
            self.max_panic_pods = 0

        desired = stable_pods
        if self.panic_started is not None:  # autoscaler.go:239-255: the larger, never down
            desired = max(desired, panic_pods)
            self.max_panic_pods = max(self.max_panic_pods, desired)
            desired = self.max_panic_pods

        if spec.reachable and self.delay is not None:  # autoscaler.go:265-276
            self.delay.record(now, desired)
            desired = self.delay.current()

        if spec.target_burst_capacity == 0:  # autoscaler.go:285-292
            ebc = 0.0
        elif spec.target_burst_capacity > 0:
            capacity = ready_pods * spec.total_value  # the real count, not the 1 of :161
            ebc = math.floor(capacity - spec.target_burst_capacity - observed_panic)
        else:
            ebc = -1.0
        return ScaleResult(desired, int(ebc), self.panic_started is not None)


class WindowAverage:
    """bucketing.go:94-103,201-231,249-297 TimedFloat64Buckets: the average of 1 s buckets over
    a window, over the part of it that has data when the first write is recent."""

    def __init__(self, window_s: float, granularity_s: float = SCRAPE_S) -> None:
        self.granularity = granularity_s
        self.window = window_s
        self.buckets = [0.0] * math.ceil(window_s / granularity_s)  # bucketing.go:97
        self.first_write: float | None = None
        self.last_write: float | None = None  # None: Go's zero time, long ago
        self.total = 0.0

    def _index(self, t: float) -> int:
        return int(t // self.granularity)  # bucketing.go:236-241

    def _truncate(self, t: float) -> float:
        return self._index(t) * self.granularity

    def record(self, now: float, value: float) -> None:
        bucket_time, write = self._truncate(now), self._index(now)  # bucketing.go:250,255
        if self.last_write != bucket_time:
            last = self.last_write
            if last is not None and bucket_time + self.window <= last:
                return  # bucketing.go:290-293: older than a window, ignored
            if self.first_write is None or self.first_write > bucket_time:  # :261-263
                self.first_write = bucket_time
            if last is None or bucket_time > last:
                if last is None or bucket_time - last >= self.window:  # :266-273 reset
                    self.first_write = bucket_time
                    self.buckets = [0.0] * len(self.buckets)
                    self.total = 0.0
                else:  # bucketing.go:279-283: zero the buckets skipped since the last write
                    for i in range(self._index(last) + 1, write + 1):
                        self.total -= self.buckets[i % len(self.buckets)]
                        self.buckets[i % len(self.buckets)] = 0.0
                self.last_write = bucket_time  # bucketing.go:286
        self.buckets[write % len(self.buckets)] += value  # bucketing.go:295-296
        self.total += value

    def is_empty(self, now: float) -> bool:
        last = self.last_write  # bucketing.go:118-128
        return last is None or self._truncate(now) - last > self.window

    def average(self, now: float) -> float:
        """bucketing.go:201-231 WindowAverage."""
        now = self._truncate(now)
        if self.last_write is None or self.first_write is None:
            return 0.0
        d = now - self.last_write
        span = int((self.last_write - self.first_write) // self.granularity) + 1
        if d <= 0:
            return round(self.total / min(span, len(self.buckets)), 6)
        if d < self.window:
            start, end = self._index(self.last_write), self._index(now)
            total = self.total - sum(
                self.buckets[i % len(self.buckets)] for i in range(start + 1, end + 1)
            )
            return round(total / min(span, len(self.buckets) - (end - start)), 6)
        return 0.0


class Collector:
    """collector.go:287-300,389-398: the revision's concurrency (summed over pods, less what the
    activator proxied, which it reports itself) in a stable and a panic window."""

    def __init__(self, stable_window_s: float, panic_window_percentage: float = 10.0) -> None:
        # resources/metric.go:47-52: panic window = stable x percentage, whole seconds, >= 1 s
        panic_s = max(SCRAPE_S, round(stable_window_s * panic_window_percentage / 100))
        self.stable = WindowAverage(stable_window_s)
        self.panic = WindowAverage(panic_s)

    def record(self, now: float, concurrency: float) -> None:
        self.stable.record(now, concurrency)
        self.panic.record(now, concurrency)

    def stable_and_panic(self, now: float) -> tuple[float, float] | None:
        """collector.go:192-207; None is ErrNoData (no record for a whole window)."""
        if self.stable.is_empty(now):
            return None
        return self.stable.average(now), self.panic.average(now)


@dataclass(frozen=True)
class ScaleBounds:
    """The PodAutoscaler's annotations and the config-autoscaler settings scaler.go reads."""

    min_scale: int = 0  # config.go:64
    max_scale: int = 0  # config.go:65, 0 = unbounded
    initial_scale: int = 1  # config.go:63
    scale_to_zero_grace_s: float = 30.0  # config.go:58
    scale_to_zero_retention_s: float = 0.0  # config.go:59
    stable_window_s: float = 60.0  # config.go:57 (resources/metric.go:31-37)
    enable_scale_to_zero: bool = True  # config.go:44
    progress_deadline_s: float = 600.0  # pkg/deployment/config.go:48 ProgressDeadlineDefault
    target_burst_capacity: float = 211.0  # kpa.go:346-352 resolveTBC
    reachable: bool = True

    def __post_init__(self) -> None:
        _check(self.min_scale >= 0, "min_scale", "must be >= 0")  # config.go:181
        _check(self.max_scale >= 0, "max_scale", "must be >= 0")
        _check(self.max_scale == 0 or self.min_scale <= self.max_scale, "min_scale",
               "must be <= max_scale")  # fmt: skip  # config.go:200
        _check(self.initial_scale >= 0, "initial_scale", "must be >= 0")  # config.go:177
        _check(self.scale_to_zero_grace_s > 0, "scale_to_zero_grace_s", "must be > 0")  # :115
        _check(self.scale_to_zero_retention_s >= 0, "scale_to_zero_retention_s", "must be >= 0")


@dataclass
class PodAutoscaler:
    """The KPA reconciler's state for one revision: its Active condition (kpa.go:286-322), when
    the scale target first reached its initial scale, and the SKS mode (kpa.go:128-142)."""

    bounds: ScaleBounds
    replicas: int  # the Deployment's spec.replicas
    active: str = "activating"  # "active" | "activating" | "inactive": Active True/Unknown/False
    active_since: float = 0.0
    initialized: bool = False  # ScaleTargetInitialized
    proxy_since: float | None = 0.0  # SKS in proxy mode (the activator in path) since

    def _mark(self, state: str, now: float) -> None:
        if state != self.active:
            self.active, self.active_since = state, now

    def _scale_to_zero(self, now: float, desired: int) -> tuple[int, bool]:
        """scaler.go:174-299 handleScaleToZero: (scale, whether to apply it)."""
        b = self.bounds
        if desired != 0:
            return desired, True
        if not b.enable_scale_to_zero:
            return 1, True  # scaler.go:192-194
        in_state = now - self.active_since
        if self.active == "activating":  # scaler.go:206-213
            timeout = b.progress_deadline_s + ACTIVATION_TIMEOUT_BUFFER_S
            return (desired, True) if in_state > timeout else (SCALE_UNKNOWN, False)
        if self.active == "active":  # scaler.go:214-235
            return (desired, False) if in_state >= b.stable_window_s else (1, True)
        # scaler.go:242-247: with TBC -1 the activator is always in path; otherwise its probe
        # answers once the SKS is in proxy mode.
        if b.target_burst_capacity != -1 and self.proxy_since is None:
            return desired, False  # scaler.go:292-297: probe again later
        retention = b.scale_to_zero_retention_s if b.reachable else 0.0  # scaler.go:144-154
        if in_state >= max(b.scale_to_zero_grace_s, retention):  # scaler.go:255-260
            return desired, True
        if retention > 0 and in_state < retention:  # scaler.go:264-270
            return desired, False
        proxy_for = 0.0 if self.proxy_since is None else now - self.proxy_since
        return desired, b.scale_to_zero_grace_s - proxy_for <= 0  # scaler.go:278-289

    def scale(self, now: float, desired: int) -> tuple[int, bool]:
        """scaler.go:332-381 scale(): the wanted scale and whether the Deployment is patched."""
        b = self.bounds
        if desired < 0 and self.active != "activating":
            return desired, False  # scaler.go:336-339: no metrics yet
        min_scale = b.min_scale if b.reachable else 0  # pa_lifecycle.go:88-100 ScaleBounds
        if b.initial_scale > 1 and not self.initialized and b.reachable:  # scaler.go:349-355
            min_scale = max(b.initial_scale, min_scale)
        if desired < min_scale:  # scaler.go:157-165 applyBounds
            desired = min_scale
        elif b.max_scale and desired > b.max_scale:
            desired = b.max_scale
        desired, apply = self._scale_to_zero(now, desired)
        if not apply or desired == self.replicas:  # scaler.go:362-377
            return desired, False
        self.replicas = desired
        return desired, True

    def reconcile(self, now: float, desired: int, excess_burst_capacity: int, ready: int) -> int:
        """kpa.go:123-185: scale, set the SKS mode, then the Active condition; the wanted scale."""
        want, _ = self.scale(now, desired)
        serve = want > 0 and excess_burst_capacity >= 0  # kpa.go:130-142
        if want == SCALE_UNKNOWN and self.active == "inactive":
            serve = False
        if serve:
            self.proxy_since = None
        elif self.proxy_since is None:
            self.proxy_since = now
        self._update_active(now, want, ready)
        return want

    def _update_active(self, now: float, want: int, ready: int) -> None:
        """kpa.go:286-333 computeActiveCondition with activeThreshold."""
        b = self.bounds
        min_scale = b.min_scale if b.reachable else 0
        threshold = max(min_scale, b.initial_scale if not self.initialized else 1)
        if ready >= threshold:
            self.initialized = True
        if want == 0 or threshold == 0:
            self._mark("inactive", now)
        elif ready < threshold:
            if want > 0 or self.active != "inactive":
                self._mark("activating", now)
        elif want > 0 or self.active != "inactive":
            self._mark("active", now)


def first_excess_burst_capacity(spec: DeciderSpec, initial_scale: int) -> int:
    """multiscaler.go:325-333: the decider's status before its first tick."""
    if spec.target_burst_capacity in (-1, 0):
        return int(spec.target_burst_capacity)
    return int(initial_scale * spec.total_value - spec.target_burst_capacity)


# `python -m loadtest.kpa decide`


def _number(obj: dict[str, Any], key: str, where: str, default: float | None = None) -> float:
    value = obj.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidSpec(f"{where}{key} must be a finite number")
    return float(value)


def _count(obj: dict[str, Any], key: str, where: str, default: int | None = None) -> int:
    value = obj.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidSpec(f"{where}{key} must be a whole number >= 0")
    return value


def _object(value: object, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidSpec(f"{name} must be a JSON object")
    return value


def spec_from_json(config: dict[str, Any]) -> DeciderSpec:
    """A DeciderSpec from the `config` object of `decide`; Knative's defaults where absent."""
    defaults = DeciderSpec(target_value=1, total_value=1)
    known = set(DeciderSpec.__dataclass_fields__)
    unknown = sorted(set(config) - known)
    if unknown:
        raise InvalidSpec(f"config.{unknown[0]} is not a DeciderSpec field")
    for key in ("target_value", "total_value"):
        if key not in config:
            raise InvalidSpec(f"config.{key} is required")
    values: dict[str, Any] = {}
    for key in known - {"reachable", "activation_scale"}:
        values[key] = _number(config, key, "config.", getattr(defaults, key))
    values["activation_scale"] = _count(config, "activation_scale", "config.", 0)
    reachable = config.get("reachable", True)
    if not isinstance(reachable, bool):
        raise InvalidSpec("config.reachable must be true or false")
    try:
        return DeciderSpec(**values, reachable=reachable)
    except InvalidSpec as exc:
        raise InvalidSpec(f"config.{exc}") from None


def decide(request: object) -> list[dict[str, Any]]:
    """Run Scale() over the steps of a `decide` request: one result per step."""
    body = _object(request, "input")
    spec = spec_from_json(_object(body.get("config"), "config"))
    steps = body.get("steps")
    if not isinstance(steps, list) or not steps:
        raise InvalidSpec("steps must be a non-empty list")
    steps = [_object(step, f"steps[{i}]") for i, step in enumerate(steps)]
    times = [_number(step, "t_s", f"steps[{i}].") for i, step in enumerate(steps)]
    for i, (before, t) in enumerate(zip([0.0, *times], times, strict=False)):
        _check(t >= before, f"steps[{i}].t_s", "must be >= 0 and not before the step before it")
    initial = _object(body.get("initial", {}), "initial")
    autoscaler = Autoscaler(spec, _count(initial, "ready_pods", "initial.", 0), times[0])
    if "panic_started_s" in initial:  # a panic already under way when the steps start
        autoscaler.panic_started = _number(initial, "panic_started_s", "initial.")
        autoscaler.max_panic_pods = _count(
            initial, "max_panic_pods", "initial.", autoscaler.max_panic_pods
        )
    results = []
    for i, (step, t) in enumerate(zip(steps, times, strict=True)):
        where = f"steps[{i}]."
        ready = _count(step, "ready_pods", where)
        stable, panic = (_number(step, key, where) for key in ("observed_stable", "observed_panic"))
        _check(stable >= 0 and panic >= 0, f"{where}observed_stable/observed_panic", "must be >= 0")
        result = autoscaler.scale(t, ready, stable, panic)
        results.append({"t_s": t, **result.__dict__})
    return results


USAGE = "usage: python -m loadtest.kpa decide < request.json"


def main(argv: list[str]) -> int:
    if argv != ["decide"]:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        results = decide(json.loads(sys.stdin.read()))
    except json.JSONDecodeError as exc:
        print(f"input is not JSON: {exc}", file=sys.stderr)
        return 2
    except InvalidSpec as exc:
        print(exc, file=sys.stderr)
        return 2
    for result in results:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
