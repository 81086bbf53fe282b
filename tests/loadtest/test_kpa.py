"""The KPA model against the expectations of Knative Serving's own unit tests (tag knative-v1.23.0).

Each case names its Go file and test; times are seconds (Go's time.Now() becomes a fixed t).
"""

import json
import math
import subprocess
import sys

import pytest

from loadtest.kpa import (
    Autoscaler,
    Collector,
    DeciderSpec,
    DelayWindow,
    PodAutoscaler,
    ScaleBounds,
    WindowAverage,
)

# pkg/autoscaler/scaling/autoscaler_test.go:38-42
STABLE_WINDOW = 60
TARGET_UTILIZATION = 0.75


def expected_ebc(tot_cap: float, target_bc: float, recorded: float, pods: float) -> int:
    """autoscaler_test.go:213-217 expectedEBC."""
    return math.floor(tot_cap / TARGET_UTILIZATION * pods - target_bc - recorded)


def spec(target: float, tbc: float, **changes: object) -> DeciderSpec:
    """autoscaler_test.go:761-792 newTestAutoscalerWithScalingMetric's DeciderSpec."""
    values = dict(
        target_value=target,
        total_value=target / TARGET_UTILIZATION,
        target_burst_capacity=tbc,
        panic_threshold=2,
        max_scale_up_rate=10,
        max_scale_down_rate=10,
        stable_window_s=STABLE_WINDOW,
        reachable=True,
    )
    return DeciderSpec(**{**values, **changes})


def new_test_autoscaler(target: float, tbc: float, **changes: object) -> Autoscaler:
    """autoscaler_test.go:749-759 newTestAutoscaler: one ready pod at creation."""
    return Autoscaler(spec(target, tbc, **changes), ready_pods=1)


def expect(a: Autoscaler, t: float, ready: int, stable: float, panic: float, pods: int, ebc: int):
    result = a.scale(t, ready, stable, panic)
    assert (result.desired_pods, result.excess_burst_capacity) == (pods, ebc)
    return result


# pkg/autoscaler/scaling/autoscaler_test.go


def delay_spec(**changes: object) -> DeciderSpec:
    """TestAutoscalerScaleDownDelay's spec (StableWindow unset there; no panic at threshold 100)."""
    values = dict(target_value=10, total_value=0, target_burst_capacity=0, max_scale_down_rate=10,
                  max_scale_up_rate=10, panic_threshold=100, scale_down_delay_s=300)  # fmt: skip
    return DeciderSpec(**{**values, **changes})


def test_scale_down_delay_simple_then_gradual():
    """TestAutoscalerScaleDownDelay, subtests "simple" and "gradual" (one autoscaler)."""
    a = Autoscaler(delay_spec())
    for t, load, pods in [
        (2, 40, 4),  # simple: scale up
        (300, 0, 4),  # five minutes at reduced concurrency: not yet
        (302, 0, 0),  # five minutes and 2 s: now
        (540, 40, 4),  # gradual
        (600, 30, 4),  # 4 still dominates
        (660, 0, 4),
        (840, 0, 3),  # 4 scrolls out
        (900, 0, 0),  # everything scrolled out
    ]:
        expect(a, t, 0, load, load, pods, 0)


def test_scale_down_delay_not_reachable():
    """TestAutoscalerScaleDownDelayNotReachable: unreachable, the delay no longer holds."""
    a = Autoscaler(delay_spec())
    expect(a, 2, 0, 40, 40, 4, 0)
    expect(a, 60, 0, 0, 0, 4, 0)
    a.update(delay_spec(reachable=False))
    expect(a, 2, 0, 0, 0, 0, 0)


def test_scale_down_delay_zero():
    """TestAutoscalerScaleDownDelayZero: no window, so scale down at once."""
    a = Autoscaler(delay_spec(scale_down_delay_s=0))
    expect(a, 0, 0, 40, 40, 4, 0)
    expect(a, 0.5, 0, 20, 20, 2, 0)


def test_metrics_concurrency_and_rps():
    """TestAutoscalerMetrics and TestAutoscalerMetricsWithRPS: the scale, EBC and panic gauge."""
    result = expect(new_test_autoscaler(10, 100), 0, 1, 50, 50, 5, expected_ebc(10, 100, 50, 1))
    assert result.in_panic  # concurrencyDataPoints(expectedAttrs, true, ...)
    result = expect(new_test_autoscaler(10, 100), 61, 1, 100, 99, 10, expected_ebc(10, 100, 99, 1))
    assert result.in_panic  # panicMetric(true)


def test_stable_mode_increase():
    """TestAutoscalerStableModeIncreaseWithConcurrencyDefault and ...WithRPS."""
    a = new_test_autoscaler(10, 101)
    expect(a, 0, 1, 50, 10, 5, expected_ebc(10, 101, 10, 1))
    expect(a, 0, 1, 100, 10, 10, expected_ebc(10, 101, 10, 1))
    a = new_test_autoscaler(10, 101)
    expect(a, 0, 1, 50, 50, 5, expected_ebc(10, 101, 50, 1))
    expect(a, 0, 1, 100, 99, 10, expected_ebc(10, 101, 99, 1))


def test_unpanic_after_slow_increase():
    """TestAutoscalerUnpanicAfterSlowIncrease."""
    a, t0 = new_test_autoscaler(1, 98), 1000.0
    expect(a, t0, 10, 11, 25, 25, expected_ebc(1, 98, 25, 10))
    assert a.panic_started == t0
    expect(a, t0 + 30, 40, 30, 41, 41, expected_ebc(1, 98, 41, 40))
    assert a.panic_started == t0  # should not have moved
    result = expect(a, t0 + 62, 55, 50, 56, 50, expected_ebc(1, 98, 56, 55))
    assert a.panic_started is None and not result.in_panic


def test_extend_panic_window():
    """TestAutoscalerExtendPanicWindow."""
    a, t0 = new_test_autoscaler(1, 98), 1000.0
    expect(a, t0, 10, 11, 25, 25, expected_ebc(1, 98, 25, 10))
    expect(a, t0 + 30, 40, 30, 80, 80, expected_ebc(1, 98, 80, 40))
    assert a.panic_started == t0 + 30


def test_stable_mode_decrease():
    """TestAutoscalerStableModeDecrease."""
    a = new_test_autoscaler(10, 98)
    expect(a, 0, 8, 100, 100, 10, expected_ebc(10, 98, 100, 8))
    expect(a, 0, 8, 50, 50, 5, expected_ebc(10, 98, 50, 8))


def test_no_traffic_scale_to_zero():
    """TestAutoscalerStableModeNoTrafficScaleToZero."""
    a = new_test_autoscaler(10, 75)
    expect(a, 0, 1, 1, 0, 1, expected_ebc(10, 75, 0, 1))
    expect(a, 0, 1, 0, 0, 0, expected_ebc(10, 75, 0, 1))


def test_activation_scale():
    """TestAutoscalerActivationScale."""
    a = new_test_autoscaler(10, 75, activation_scale=2)
    expect(a, 0, 1, 0, 0, 0, expected_ebc(10, 75, 0, 1))
    expect(a, 0, 1, 1, 0, 2, expected_ebc(10, 75, 0, 1))


def test_panic_mode_exponential_track_and_stabilize():
    """TestAutoscalerPanicModeExponentialTrackAndStabilize."""
    a, t = new_test_autoscaler(1, 101), 1000.0
    expect(a, t, 1, 6, 6, 6, expected_ebc(1, 101, 6, 1))
    expect(a, t, 6, 36, 36, 36, expected_ebc(1, 101, 36, 6))
    assert a.panic_started == t
    expect(a, t + 1, 36, 216, 216, 216, expected_ebc(1, 101, 216, 36))
    assert a.panic_started == t + 1
    expect(a, t + 1, 216, 1296, 1296, 1296, expected_ebc(1, 101, 1296, 216))
    expect(a, t + 2, 1296, 1296, 1296, 1296, expected_ebc(1, 101, 1296, 1296))


def in_panic_since(seconds: float, max_pods: int):
    def prep(a: Autoscaler) -> None:
        a.panic_started, a.max_panic_pods = 1000.0 - seconds, max_pods

    return prep


@pytest.mark.parametrize(
    "label, target, tbc, stable, panic, ready, changes, prep, pods, ebc",
    [
        ("AutoscalerNoDataAtZeroNoAutoscale", 10, 100, 0, 0, 1, {}, None, 0,
         expected_ebc(10, 100, 0, 1)),
        ("AutoscalerStableModeUnlimitedTBC", 181, -1, 21, 26, 1, {}, None, 1, -1),
        ("Autoscaler0TBC", 10, 0, 50, 49, 1, {}, None, 5, 0),
        ("AutoscalerStableModeNoChange", 10, 100, 50, 50, 1, {}, None, 5,
         expected_ebc(10, 100, 50, 1)),
        ("AutoscalerPanicStableLargerThanPanic", 1, 100, 50, 30, 5, {}, in_panic_since(5, 5), 50,
         expected_ebc(1, 100, 30, 5)),
        ("AutoscalerPanicStableLessThanPanic", 1, 100, 20, 30, 5, {}, in_panic_since(5, 5), 30,
         expected_ebc(1, 100, 30, 5)),
        ("AutoscalerStableModeNoChangeAlreadyScaled", 10, 100, 50, 50, 5, {}, None, 5,
         expected_ebc(10, 100, 50, 5)),
        ("AutoscalerStableModeIncreaseWithSmallScaleUpRate", 1, 1982, 3, 3.1, 2,
         {"max_scale_up_rate": 1.1}, None, 3, expected_ebc(1, 1982, 3.1, 2)),
        ("AutoscalerStableModeDecreaseWithSmallScaleDownRate", 10, 1982, 1, 1, 100,
         {"max_scale_down_rate": 1.1}, None, 90, expected_ebc(10, 1982, 1, 100)),
        ("AutoscalerStableModeDecreaseNonReachable", 10, 1982, 1, 1, 100,
         {"max_scale_down_rate": 1.1, "reachable": False}, None, 1,
         expected_ebc(10, 1982, 1, 100)),
        ("AutoscalerPanicModeDoublePodCount", 10, 84, 50, 100, 1, {}, None, 10,
         expected_ebc(10, 84, 100, 1)),
    ],
)  # fmt: skip
def test_autoscaler_scale_table(label, target, tbc, stable, panic, ready, changes, prep, pods, ebc):
    """TestAutoscalerScale, its cases by label."""
    a = new_test_autoscaler(target, tbc, **changes)
    if prep:
        prep(a)
    expect(a, 1000.0, ready, stable, panic, pods, ebc)


def test_panic_then_unpanic_scale_down():
    """TestAutoscalerPanicThenUnPanicScaleDown."""
    a = new_test_autoscaler(10, 93)
    expect(a, 999, 1, 100, 100, 10, expected_ebc(10, 93, 100, 1))
    panic_time = 1000.0
    expect(a, panic_time, 10, 100, 1000, 100, expected_ebc(10, 93, 1000, 10))
    expect(a, panic_time + 30, 10, 1, 1, 100, expected_ebc(10, 93, 1, 10))  # still in panic
    expect(a, panic_time + 61, 10, 1, 1, 1, expected_ebc(10, 93, 1, 10))  # after the window


def test_rate_limits():
    """TestAutoscalerRateLimitScaleUp and TestAutoscalerRateLimitScaleDown."""
    a = new_test_autoscaler(10, 61)
    expect(a, 0, 1, 1000, 1001, 10, expected_ebc(10, 61, 1001, 1))  # need 100, x10 at most
    expect(a, 0, 10, 1000, 1001, 100, expected_ebc(10, 61, 1001, 10))
    a = new_test_autoscaler(10, 61)
    expect(a, 0, 100, 1, 1, 10, expected_ebc(10, 61, 1, 100))  # need 1, ÷10 at most
    expect(a, 0, 10, 1, 1, 1, expected_ebc(10, 61, 1, 10))


def test_one_pod_as_minimum_if_endpoints_not_found():
    """TestAutoscalerUseOnePodAsMinimumIfEndpointsNotFound: 0 ready counts as 1 for the rate."""
    expect(new_test_autoscaler(10, 81), 0, 0, 1000, 888, 10, expected_ebc(10, 81, 888, 0))


def test_update_target():
    """TestAutoscalerUpdateTarget."""
    a = new_test_autoscaler(10, 77)
    expect(a, 0, 1, 100, 101, 10, expected_ebc(10, 77, 101, 1))
    a.update(DeciderSpec(target_value=1, total_value=1 / TARGET_UTILIZATION,
                         target_burst_capacity=71, panic_threshold=2, max_scale_down_rate=10,
                         max_scale_up_rate=10, stable_window_s=STABLE_WINDOW,
                         reachable=False))  # fmt: skip  # Reachable unset in the Go spec
    expect(a, 0, 10, 100, 101, 100, expected_ebc(1, 71, 101, 10))


@pytest.mark.parametrize("ready, panicking", [(0, False), (1, False), (2, True)])
def test_start_in_panic_mode(ready, panicking):
    """TestStartInPanicMode: made with more than one ready pod, it holds them in panic mode."""
    a = Autoscaler(spec(100, 11, total_value=120, panic_threshold=220), ready_pods=ready)
    assert (a.panic_started is not None, a.max_panic_pods) == (panicking, ready)


# pkg/autoscaler/aggregation/max/timewindow_test.go, window_test.go


@pytest.mark.parametrize(
    "label, values, want",
    [
        ("single value", [(0, 5)], 5),
        ("two values in same second", [(0, 6), (0.5, 5)], 6),
        ("two values", [(0, 5), (1, 8)], 8),
        ("time gap", [(0, 5), (6, 4)], 4),
    ],
)
def test_timed_window_max(label, values, want):
    """TestTimedWindowMax: NewTimeWindow(5s, 1s)."""
    window = DelayWindow(5, granularity_s=1)
    for t, value in values:
        window.record(1000 + t, value)
    assert window.current() == want


# pkg/autoscaler/aggregation/bucketing_test.go


@pytest.mark.parametrize("now", [1000.0, 1000.7])
def test_window_average(now):
    """TestTimedFloat64BucketsWindowAverage: NewTimedFloat64Buckets(5s, 1s)."""
    b = WindowAverage(5)
    b.record(now, 1)
    assert b.average(now) == 1  # firstWrite used; without it 0.2
    for i in range(1, 5):
        b.record(now + i, i + 1)
    assert b.average(now + 4) == 15 / 5
    assert b.average(now + 3.6) == 15 / 5  # `now` lags behind
    assert b.average(now + 6) == (15 - 1 - 2) / (5 - 2)  # a short hole
    assert b.average(now + 10) == 0  # a long hole
    b.record(now + 6, 91)
    assert b.average(now + 6) == (15 - 1 - 2 + 91) / 5
    now += 60
    b.record(now, 1984)
    assert b.average(now) == 1984
    b.record(now - 3, 4)
    assert b.average(now) == (4 + 1984) / 4
    now += 1
    b.record(now, 5)
    assert b.average(now) == (4 + 1984 + 5) / 5
    b.record(now - 3, 10)
    assert b.average(now) == (4 + 10 + 1984 + 5) / 5
    b.record(now - 6, 10)  # too early: ignored
    b.record(now - 5, 10)  # on the bound: ignored
    assert b.average(now) == (4 + 10 + 1984 + 5) / 5
    b.record(now + 5, 10)  # nothing for exactly a window: cleared
    assert b.average(now + 5) == 10


def test_descending_record():
    """TestDescendingRecord."""
    b = WindowAverage(5)
    for i in range(8, -1, -1):
        b.record(1000 + i, 5)
    assert b.average(1005) == 5


def test_no_data_is_not_zero():
    """collector.go:201-203 (TestAutoscalerNoDataNoAutoscale's error): a window without a
    single record is no data, and Scale() is not run; a recorded 0 is data."""
    c = Collector(60)
    assert c.stable_and_panic(1000) is None
    c.record(1000, 0)
    assert c.stable_and_panic(1000) == (0, 0)
    assert c.stable_and_panic(1061) is None


def test_panic_window_is_a_tenth_of_the_stable_window():
    """resources/metric.go:47-52: panic window = 10 % of 60 s; the two averages differ."""
    c = Collector(60)
    for t in range(60):
        c.record(1000 + t, 10 if t >= 54 else 0)
    assert c.stable_and_panic(1059) == (1, 10)


# pkg/reconciler/autoscaling/kpa/scaler_test.go TestScaler: defaultConfig() of kpa_test.go:103-
# 135: stable window 5 min, grace 60 s, progress deadline 121 s, TBC 200; the activator probe
# answers (the SKS in proxy mode for 0 s) unless the case says otherwise.
GRACE, WINDOW, DEADLINE, NOW = 60, 300, 121, 10_000.0
ACTIVATION_TIMEOUT = DEADLINE + 30


def pa(start: int, state: str, since: float, proxy_for: float | None = 0, initialized=False,
       **bounds: object) -> PodAutoscaler:  # fmt: skip
    values = dict(scale_to_zero_grace_s=GRACE, stable_window_s=WINDOW,
                  progress_deadline_s=DEADLINE, target_burst_capacity=200)  # fmt: skip
    return PodAutoscaler(
        ScaleBounds(**{**values, **bounds}),
        replicas=start,
        active=state,
        active_since=NOW - since,
        initialized=initialized,
        proxy_since=None if proxy_for is None else NOW - proxy_for,
    )


@pytest.mark.parametrize(
    "label, autoscaler, scale_to, want, scaling",
    [
        ("waits to scale to zero (just before idle period)",
         pa(1, "active", WINDOW - 1), 0, 1, False),
        ("waits to scale to zero (just before idle period), custom PA window",
         pa(1, "active", 45 - 1, stable_window_s=45), 0, 1, False),
        ("scale to 1 waiting for idle expires", pa(10, "active", WINDOW - 1), 0, 1, True),
        ("waits to scale to zero after idle period", pa(1, "active", WINDOW), 0, 0, False),
        ("can scale to zero after grace period, but 0 PA retention",
         pa(1, "inactive", GRACE, scale_to_zero_retention_s=0), 0, 0, True),
        ("can't scale to zero after grace period, but before last pod retention",
         pa(1, "inactive", GRACE, scale_to_zero_retention_s=2 * GRACE), 0, 0, False),
        ("scale to zero after grace period, and after last pod retention",
         pa(1, "inactive", GRACE, scale_to_zero_retention_s=GRACE), 0, 0, True),
        ("scale to zero after grace period", pa(1, "inactive", GRACE), 0, 0, True),
        ("waits to scale to zero (just before grace period)",
         pa(1, "inactive", GRACE - 1), 0, 0, False),
        ("waits to scale to zero (just before grace period, sks short)",
         pa(1, "inactive", GRACE - 1, proxy_for=GRACE - 1), 0, 0, False),
        ("waits to scale to zero (just before grace period, sks in proxy long) and last pod "
         "timeout positive",
         pa(1, "inactive", GRACE - 1, proxy_for=GRACE, scale_to_zero_retention_s=42), 0, 0, True),
        ("waits to scale to zero (just before grace period, sks in proxy long)",
         pa(1, "inactive", GRACE - 1, proxy_for=GRACE), 0, 0, True),
        ("scale to zero with TBC=-1",
         pa(1, "inactive", GRACE, proxy_for=None, target_burst_capacity=-1), 0, 0, True),
        ("scale to zero after grace period, but fail prober",
         pa(1, "inactive", GRACE, proxy_for=None), 0, 0, False),
        ("waits to scale to zero while activating until after deadline exceeded",
         pa(1, "activating", ACTIVATION_TIMEOUT / 2), 0, -1, False),
        ("scale to zero while activating after deadline exceeded",
         pa(1, "activating", ACTIVATION_TIMEOUT + 1), 0, 0, True),
        ("scale down to minScale before grace period",
         pa(10, "inactive", GRACE - 1, min_scale=2), 0, 2, True),
        ("scale down to minScale after grace period",
         pa(10, "inactive", GRACE, min_scale=2), 0, 2, True),
        ("scale to zero ignore last pod retention if  revision is unreachable",
         pa(1, "inactive", GRACE, scale_to_zero_retention_s=10 * GRACE, reachable=False),
         0, 0, True),
        ("can't scale to zero if revision is unreachable, but before deadline",
         pa(1, "inactive", GRACE - 1, scale_to_zero_retention_s=10 * GRACE, reachable=False),
         0, 0, False),
        ("ignore minScale if unreachable",
         pa(10, "inactive", GRACE, min_scale=2, reachable=False), 0, 0, True),
        ("scales up", pa(1, "activating", 0), 10, 10, True),
        ("scales up to maxScale", pa(1, "activating", 0, max_scale=8), 10, 8, True),
        ("scale up inactive revision", pa(1, "inactive", GRACE / 2), 10, 10, True),
        ("does not scale up from zero with no metrics", pa(0, "inactive", 0), -1, -1, False),
        ("scales up from zero to desired one", pa(0, "activating", 0), 1, 1, True),
        ("scales up from zero to desired high scale", pa(0, "activating", 0), 10, 10, True),
        ("negative scale does not scale", pa(12, "active", 0), -1, -1, False),
        ("initial scale attained, but now time to scale down",
         pa(2, "active", 120, initialized=True, initial_scale=2), 0, 1, True),
        ("haven't scaled to initial scale, override desired scale with initial scale",
         pa(0, "activating", 0, initial_scale=2), 1, 2, True),
        ("initial scale reached for the first time",
         pa(5, "activating", 0, initial_scale=5), 1, 5, False),
        ("unreachable revision with initialScale > 1 can scale to 0",
         pa(2, "active", 120, initial_scale=2, reachable=False), 0, 1, True),
    ],
)  # fmt: skip
def test_scaler(label, autoscaler, scale_to, want, scaling):
    """TestScaler, its cases by label: the wanted scale and whether the Deployment is patched."""
    assert autoscaler.scale(NOW, scale_to) == (want, scaling)
    if scaling:
        assert autoscaler.replicas == want


@pytest.mark.parametrize("min_scale, want", [(0, 1), (2, 2)])
def test_disable_scale_to_zero(min_scale, want):
    """TestDisableScaleToZero: "EnableScaleToZero == false and minScale == 0" and "... == 2"."""
    autoscaler = pa(10, "active", 0, min_scale=min_scale, enable_scale_to_zero=False)
    assert autoscaler.scale(NOW, 0) == (want, True)


# The command


def run_decide(body: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "loadtest.kpa", "decide"],
        input=body if isinstance(body, str) else json.dumps(body),
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_decide_command_replays_panic_then_unpanic():
    """TestAutoscalerPanicThenUnPanicScaleDown through `python -m loadtest.kpa decide`."""
    config = dict(target_value=10, total_value=10 / 0.75, target_burst_capacity=93,
                  panic_threshold=2, max_scale_up_rate=10, max_scale_down_rate=10,
                  stable_window_s=60, scale_down_delay_s=0, activation_scale=0,
                  reachable=True)  # fmt: skip
    steps = [
        {"t_s": 999, "ready_pods": 1, "observed_stable": 100, "observed_panic": 100},
        {"t_s": 1000, "ready_pods": 10, "observed_stable": 100, "observed_panic": 1000},
        {"t_s": 1030, "ready_pods": 10, "observed_stable": 1, "observed_panic": 1},
        {"t_s": 1061, "ready_pods": 10, "observed_stable": 1, "observed_panic": 1},
    ]
    done = run_decide({"config": config, "steps": steps, "initial": {"ready_pods": 1}})
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(x["desired_pods"], x["in_panic"]) for x in lines] == [
        (10, True), (100, True), (100, True), (1, False),
    ]  # fmt: skip
    assert lines[1]["excess_burst_capacity"] == expected_ebc(10, 93, 1000, 10)


def test_decide_command_continues_a_panic_under_way():
    """`initial` carries a panic in progress: TestAutoscalerScale "...StableLessThanPanic"."""
    body = {
        "config": {"target_value": 1, "total_value": 1 / 0.75, "target_burst_capacity": 100},
        "steps": [{"t_s": 1000, "ready_pods": 5, "observed_stable": 20, "observed_panic": 30}],
        "initial": {"ready_pods": 5, "panic_started_s": 995, "max_panic_pods": 5},
    }
    done = run_decide(body)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["desired_pods"] == 30


@pytest.mark.parametrize(
    "body, field",
    [
        ("{", "input is not JSON"),
        ([], "input must be a JSON object"),
        ({"steps": []}, "config must be a JSON object"),
        ({"config": {"total_value": 1}, "steps": [{}]}, "config.target_value is required"),
        ({"config": {"target_value": 1, "total_value": 1, "max_scale_up_rate": 1},
          "steps": [{}]}, "config.max_scale_up_rate must be > 1"),
        ({"config": {"target_value": 1, "total_value": 1, "stable_window_s": 1.5},
          "steps": [{}]}, "config.stable_window_s must be whole seconds"),
        ({"config": {"target_value": 1, "total_value": 1, "target_burst_capacity": -2},
          "steps": [{}]}, "config.target_burst_capacity must be >= 0 or -1"),
        ({"config": {"target_value": 1, "total_value": 1, "reachable": "yes"},
          "steps": [{}]}, "config.reachable must be true or false"),
        ({"config": {"target_value": 1, "total_value": 1, "panic_threshold_pct": 200},
          "steps": [{}]}, "config.panic_threshold_pct is not a DeciderSpec field"),
        ({"config": {"target_value": 1, "total_value": 1}, "steps": []},
         "steps must be a non-empty list"),
        ({"config": {"target_value": 1, "total_value": 1},
          "steps": [{"t_s": 5, "ready_pods": 1, "observed_stable": 1, "observed_panic": 1},
                    {"t_s": 4, "ready_pods": 1, "observed_stable": 1, "observed_panic": 1}]},
         "steps[1].t_s must be >= 0"),
        ({"config": {"target_value": 1, "total_value": 1},
          "steps": [{"t_s": 0, "ready_pods": -1, "observed_stable": 1, "observed_panic": 1}]},
         "steps[0].ready_pods must be a whole number"),
        ({"config": {"target_value": 1, "total_value": 1},
          "steps": [{"t_s": 0, "ready_pods": 1, "observed_stable": 1}]},
         "steps[0].observed_panic must be a finite number"),
    ],
)  # fmt: skip
def test_decide_command_rejects_bad_input(body, field):
    done = run_decide(body)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().startswith(field) and len(done.stderr.strip().splitlines()) == 1


def test_panic_ends_only_after_a_whole_stable_window():
    """autoscaler.go:230: `panicTime.Add(StableWindow).Before(now)`, strictly: at exactly 60 s
    after the last surge the panic holds its pods; a second later it ends."""
    a = new_test_autoscaler(10, 0)
    expect(a, 1000, 1, 100, 100, 10, 0)
    expect(a, 1060, 10, 1, 1, 10, 0)
    assert expect(a, 1061, 10, 1, 1, 1, 0).in_panic is False


# pkg/reconciler/autoscaling/kpa/kpa_test.go TestReconcile: the SKS mode (activator in the path
# while the excess burst capacity is negative) and the Active condition; defaultScale 11.


@pytest.mark.parametrize(
    "label, proxy_before, ebc, proxy_after",
    [
        ("steady not enough capacity", True, -42, True),
        ("traffic increased, no longer enough burst capacity", False, -18, True),
        ("traffic decreased, now we have enough burst capacity", True, 1, False),
    ],
)
def test_reconcile_puts_the_activator_in_the_path(label, proxy_before, ebc, proxy_after):
    autoscaler = PodAutoscaler(ScaleBounds(), replicas=11, active="active", initialized=True,
                               proxy_since=NOW - 5 if proxy_before else None)  # fmt: skip
    assert autoscaler.reconcile(NOW, 11, ebc, ready=1) == 11
    assert (autoscaler.proxy_since is not None) == proxy_after
    if proxy_before and proxy_after:
        assert autoscaler.proxy_since == NOW - 5  # proxying since before: ProxyFor keeps counting


@pytest.mark.parametrize(
    "label, ready, min_scale, state, initialized",
    [
        ("initial scale > minScale, have not reached initial scale, PA still activating",
         11, 11, "activating", False),
        ("initial scale reached, mark PA as active", 20, 0, "active", True),
    ],
)  # fmt: skip
def test_reconcile_holds_initial_scale(label, ready, min_scale, state, initialized):
    autoscaler = PodAutoscaler(ScaleBounds(min_scale=min_scale, initial_scale=20), replicas=11)
    assert autoscaler.reconcile(NOW, 11, -42, ready) == 20  # patched to 20 replicas
    assert autoscaler.replicas == 20
    assert (autoscaler.active, autoscaler.initialized) == (state, initialized)


def test_reconcile_goes_inactive_then_scales_to_zero_after_the_grace_period():
    """scaler.go:214-229 then 255-259: active for a stable window, want 0 marks it inactive
    without scaling; the grace period later (the activator in the path by then), 0 replicas."""
    autoscaler = PodAutoscaler(ScaleBounds(), replicas=1, active="active", active_since=0.0,
                               initialized=True, proxy_since=None)  # fmt: skip
    assert autoscaler.reconcile(60, 0, 0, ready=1) == 0
    assert (autoscaler.active, autoscaler.replicas, autoscaler.proxy_since) == ("inactive", 1, 60)
    autoscaler.reconcile(89, 0, 0, ready=1)
    assert autoscaler.replicas == 1
    autoscaler.reconcile(90, 0, 0, ready=1)
    assert autoscaler.replicas == 0


def test_reconcile_scales_to_zero_at_once_when_long_in_proxy_mode():
    """scaler.go:278-282 "Fast path scaling to 0": the activator has been in the path for the
    grace period already (a negative excess burst capacity kept it there)."""
    autoscaler = PodAutoscaler(ScaleBounds(), replicas=1, active="active", active_since=0.0,
                               initialized=True, proxy_since=0.0)  # fmt: skip
    autoscaler.reconcile(60, 0, -5, ready=1)
    autoscaler.reconcile(61, 0, -5, ready=1)
    assert autoscaler.replicas == 0
