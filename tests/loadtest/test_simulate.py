"""The simulator: Knative's autoscaler model against the load shapes and a capacity curve."""

from pathlib import Path

import pytest

from loadtest.simulate import Capacity, Settings, percentile, rates, simulate, waits

FIXTURE = Path(__file__).parent / "capacity-fixture.json"


@pytest.fixture(scope="module")
def capacity() -> Capacity:
    return Capacity.load(FIXTURE)


def settings(**changes: object) -> Settings:
    values = dict(container_concurrency=20, target=4, utilization=0.7, max_scale=8)
    return Settings(**{**values, **changes})


def test_curve_is_read_and_interpolated(capacity):
    assert capacity.slo_p99_ms == 500 and capacity.resources["cpu_limit"] == "1"
    assert capacity.rps_at(1) == 2365
    assert capacity.rps_at(0.5) == 2365 / 2  # idle half of the time
    assert capacity.rps_at(3) == pytest.approx((3100 + 3694) / 2)
    assert capacity.rps_at(1000) == 3694  # flat past the last level, at its best
    assert capacity.p99_at(0.2) == 1.12  # never faster than one request alone
    assert capacity.p99_at(6) == pytest.approx((12.0 + 22.3) / 2)


@pytest.mark.parametrize("rps", [100.0, 2365.0, 3000.0, 3690.0])
def test_concurrency_for_inverts_the_curve(capacity, rps):
    assert capacity.rps_at(capacity.concurrency_for(rps, 20)) == pytest.approx(rps, rel=1e-6)


def test_a_noisy_dip_is_smoothed(capacity):
    """The fixture's throughput dips from 3694 (c=4) to 3602 (c=8): the pod keeps 3694."""
    assert capacity.rps_at(8) == 3694 and capacity.rps_at(256) == 3694
    assert capacity.concurrency_for(3694, 20) == pytest.approx(4)


def test_concurrency_for_stops_at_the_limit(capacity):
    assert capacity.concurrency_for(10_000, 20) == pytest.approx(20)


def test_a_bad_curve_is_refused(tmp_path):
    bad = tmp_path / "curve.json"
    bad.write_text(FIXTURE.read_text().replace('"rps": 2365.0', '"rps": 0'))
    with pytest.raises(ValueError, match="positive concurrency and rps"):
        Capacity.load(bad)


def test_fluid_queue_waits():
    assert waits(0, 100, 200) == [0.0] * 10  # under capacity, nobody waits
    assert waits(50, 200, 200) == [0.25] * 10  # the backlog drains at the arrival rate
    growing = waits(0, 300, 200)
    assert growing[0] < growing[-1] and growing[-1] == pytest.approx(0.95 * 100 / 200)


def test_percentile_weighs_requests():
    assert percentile([(1.0, 99), (1000.0, 1)], 0.99) == 1.0
    assert percentile([(1.0, 98), (1000.0, 2)], 0.99) == 1000.0


def test_rates_follow_the_shapes():
    steady = rates("steady", 1000, 100)
    assert steady[0] == 500 and set(steady[2:]) == {1000}  # locust's spawn rate: full in 2 s
    spike = rates("spike", 1000, 100)
    assert spike[10] == 200 and spike[50] == 1000 and spike[90] == 200
    cold = rates("coldstart", 1000, 400)
    idle = [t for t, r in enumerate(cold) if r == 0]
    assert len(idle) == 90 + 10  # shapes.py: Knative's default window + IDLE_MARGIN


def test_one_pod_carries_a_load_under_its_target(capacity):
    run = simulate("steady", 1000, capacity, settings(), cold_start_s=1)
    assert {x.pods for x in run.intervals} == {1}
    assert run.waited == 0 and run.cold == 0
    assert run.p99_ms() == capacity.p99_at(capacity.concurrency_for(1000, 20))
    assert run.pod_seconds == 300


def test_scale_out_is_capped_by_max_scale(capacity):
    run = simulate("steady", 50_000, capacity, settings(max_scale=3), cold_start_s=1)
    assert run.max_pods == 3
    assert run.p99_ms() > 1000  # three pods cannot carry it: the queue grows


def test_coldstart_goes_to_zero_after_the_window_and_back_cold(capacity):
    s = settings()
    run = simulate("coldstart", 1000, capacity, s, cold_start_s=0.83)
    last_load = max(t for t, x in enumerate(run.intervals[:400]) if x.rate > 0)
    zero = [x.t_s for x in run.intervals if x.pods == 0]
    # stable window 60 s of decaying average, then the 30 s grace period (scaler.go:255-260)
    assert zero and last_load + 60 <= zero[0] <= last_load + 60 + 30 + 4
    assert run.cold == 1000  # the first second of the second half found no pod
    assert 1 <= run.cold_wait_s < 2


def test_min_scale_one_never_goes_cold(capacity):
    run = simulate("coldstart", 1000, capacity, settings(min_scale=1), cold_start_s=0.83)
    assert min(x.pods for x in run.intervals) == 1 and run.cold == 0


def test_retention_keeps_the_last_pod_over_the_pause(capacity):
    """The pause is 100 s; inactive 60 s after the last request, a minute's retention bridges it."""
    run = simulate("coldstart", 1000, capacity, settings(retention_s=60), cold_start_s=0.83)
    assert min(x.pods for x in run.intervals) == 1 and run.cold == 0
    short = simulate("coldstart", 1000, capacity, settings(retention_s=20), cold_start_s=0.83)
    assert short.cold == 1000 and short.max_pods > run.max_pods  # the cold backlog panics out


def test_longer_cold_start_makes_more_requests_wait(capacity):
    fast = simulate("spike", 20_000, capacity, settings(), cold_start_s=1)
    slow = simulate("spike", 20_000, capacity, settings(), cold_start_s=75)
    assert slow.waited > fast.waited and slow.p99_ms() > fast.p99_ms()
