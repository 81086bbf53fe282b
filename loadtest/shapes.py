"""Load shapes selected by name (--shape): stage tables built from --users and --run-time."""

import math
import time
from argparse import Namespace
from dataclasses import dataclass

from locust import LoadTestShape

from loadtest.distributed import FinalReports

IDLE_MARGIN = 10  # seconds the coldstart shape idles beyond the scale-to-zero window


@dataclass(frozen=True)
class Load:
    """What a shape is built from: the run's options."""

    users: int
    duration: float  # seconds
    spawn_rate: float  # users per second
    scale_to_zero_window: float  # seconds (Knative: stable-window + scale-to-zero grace period)

    def __post_init__(self) -> None:
        if self.users < 1:
            raise ValueError(f"shapes need at least 1 user, got {self.users}")
        if self.duration <= 0:
            raise ValueError("shapes need a positive --run-time")
        if self.spawn_rate <= 0:
            raise ValueError(f"spawn rate must be positive, got {self.spawn_rate}")
        if self.scale_to_zero_window <= 0:
            raise ValueError(
                f"scale-to-zero window must be positive, got {self.scale_to_zero_window}"
            )


@dataclass(frozen=True)
class Stage:
    seconds: float
    users: int
    spawn_rate: float


class StagedShape(LoadTestShape):
    """Walks a table of stages, one after the other, then ends the run."""

    abstract = True

    def __init__(self, load: Load) -> None:
        super().__init__()
        self.table = self.stages(load)

    def stages(self, load: Load) -> list[Stage]:
        raise NotImplementedError

    def stage_at(self, run_time: float) -> tuple[int, float] | None:
        end = 0.0
        for stage in self.table:
            end += stage.seconds
            if run_time < end:
                return stage.users, stage.spawn_rate
        return None

    def tick(self) -> tuple[int, float] | None:
        return self.stage_at(self.get_run_time())


class Steady(StagedShape):
    """All users, for the whole run."""

    def stages(self, load: Load) -> list[Stage]:
        return [Stage(load.duration, load.users, load.spawn_rate)]


class Ramp(StagedShape):
    """Four equal steps up to the target user count, the last one held."""

    steps = 4

    def stages(self, load: Load) -> list[Stage]:
        return [
            Stage(
                load.duration / self.steps, math.ceil(load.users * k / self.steps), load.spawn_rate
            )
            for k in range(1, self.steps + 1)
        ]


class Spike(StagedShape):
    """A fifth of the users, all of them at once for the middle fifth, then a fifth again."""

    def stages(self, load: Load) -> list[Stage]:
        base, fifth = max(1, load.users // 5), load.duration / 5
        return [
            Stage(2 * fifth, base, load.spawn_rate),
            Stage(fifth, load.users, float(load.users)),
            Stage(2 * fifth, base, float(load.users)),
        ]


class ColdStart(StagedShape):
    """Warm up, idle past the scale-to-zero window, then load again: the first answers are cold."""

    def stages(self, load: Load) -> list[Stage]:
        idle = load.scale_to_zero_window + IDLE_MARGIN
        if load.duration <= idle:
            raise ValueError(
                f"coldstart idles {idle:.0f}s (scale-to-zero window + {IDLE_MARGIN}s): "
                "--run-time must be longer"
            )
        active = (load.duration - idle) / 2
        return [
            Stage(active, load.users, load.spawn_rate),
            Stage(idle, 0, float(load.users)),
            Stage(active, load.users, float(load.users)),
        ]


class Rollout(Steady):
    """Steady load while `python -m knative.rollout shift` moves traffic (shares logged live)."""


SHAPES: dict[str, type[StagedShape]] = {
    "steady": Steady,
    "ramp": Ramp,
    "spike": Spike,
    "coldstart": ColdStart,
    "rollout": Rollout,
}


def from_options(options: Namespace) -> StagedShape:
    """The shape named by the parsed locust options."""
    load = Load(
        users=1 if options.num_users is None else options.num_users,  # locust's headless defaults
        duration=options.run_time or 0,
        spawn_rate=1 if options.spawn_rate is None else options.spawn_rate,
        scale_to_zero_window=options.scale_to_zero_window,
    )
    return SHAPES[options.shape](load)


class NamedShape(LoadTestShape):
    """The shape locust runs: delegates each tick to the shape named by --shape."""

    use_common_options = True

    def __init__(self) -> None:
        super().__init__()
        self.selected: StagedShape | None = None
        self.final_reports: FinalReports | None = None

    def tick(self) -> tuple[int, float] | None:
        if self.selected is None:
            self.selected = from_options(self.runner.environment.parsed_options)
            self.final_reports = FinalReports.on_master(self.runner)
        stage = self.selected.stage_at(self.get_run_time())
        if stage is None and self.final_reports and self.final_reports.pending(time.monotonic()):
            stop_all = float(self.selected.table[-1].users or 1)  # users per second
            return 0, stop_all  # the run ends once every worker has reported its last requests
        return stage
