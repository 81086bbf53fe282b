from types import SimpleNamespace

import pytest

from loadtest import shapes
from loadtest.shapes import ColdStart, Load, NamedShape, Ramp, Spike, Steady

LOAD = Load(users=10, duration=100, spawn_rate=5, scale_to_zero_window=30)


def ticks(shape, times):
    """tick() at each run time, without a runner and without load."""
    clock = iter(times)
    shape.get_run_time = lambda: next(clock)
    return [shape.tick() for _ in times]


def test_steady_holds_all_users_then_ends():
    assert ticks(Steady(LOAD), [0, 50, 99.9, 100]) == [(10, 5), (10, 5), (10, 5), None]


def test_ramp_steps_up_to_the_target():
    assert ticks(Ramp(LOAD), [0, 25, 50, 75, 99, 100]) == [
        (3, 5),
        (5, 5),
        (8, 5),
        (10, 5),
        (10, 5),
        None,
    ]


def test_spike_jumps_to_all_users_at_once_and_back():
    assert ticks(Spike(LOAD), [0, 39, 40, 59, 60, 99, 100]) == [
        (2, 5),
        (2, 5),
        (10, 10.0),
        (10, 10.0),
        (2, 10.0),
        (2, 10.0),
        None,
    ]


def test_coldstart_idles_past_the_scale_to_zero_window():
    idle = 30 + shapes.IDLE_MARGIN  # 40 s of the 100: 30 s warm, 40 s idle, 30 s measured
    assert ticks(ColdStart(LOAD), [0, 29, 30, 30 + idle - 1, 30 + idle, 99, 100]) == [
        (10, 5),
        (10, 5),
        (0, 10.0),
        (0, 10.0),
        (10, 10.0),
        (10, 10.0),
        None,
    ]


def test_coldstart_needs_a_run_longer_than_its_idle_time():
    with pytest.raises(ValueError, match="--run-time must be longer"):
        ColdStart(Load(users=1, duration=40, spawn_rate=1, scale_to_zero_window=30))


@pytest.mark.parametrize(
    ("users", "duration", "spawn_rate", "window", "message"),
    [
        (0, 10, 1, 90, "at least 1 user"),
        (1, 0, 1, 90, "positive --run-time"),
        (1, 10, 0, 90, "spawn rate"),
        (1, 10, 1, 0, "scale-to-zero window"),
    ],
)
def test_load_rejects_what_no_shape_can_run(users, duration, spawn_rate, window, message):
    with pytest.raises(ValueError, match=message):
        Load(users, duration, spawn_rate, window)


def options(**overrides):
    values = (
        dict(shape="steady", num_users=4, run_time=60, spawn_rate=2, scale_to_zero_window=90)
        | overrides
    )
    return SimpleNamespace(**values)


@pytest.mark.parametrize("name", sorted(shapes.SHAPES))
def test_every_name_builds_its_shape(name):
    shape = shapes.from_options(options(shape=name, run_time=200))
    assert type(shape) is shapes.SHAPES[name]


def test_named_shape_ticks_the_shape_named_by_the_options():
    named = NamedShape()
    named.runner = SimpleNamespace(
        environment=SimpleNamespace(parsed_options=options(shape="ramp"))
    )
    assert ticks(named, [0, 15, 30, 45, 60]) == [(1, 2), (2, 2), (3, 2), (4, 2), None]
    assert type(named.selected) is Ramp


def test_zero_users_on_the_command_line_is_an_error_not_one_user():
    with pytest.raises(ValueError, match="at least 1 user, got 0"):
        shapes.from_options(options(num_users=0))
