"""One pod's measured capacity curve (loadtest/capacity-measured.json) and reading it between its
levels. Apart from the simulator so that the rollout tool (knative/commands/warm.py) reads the
curve the same way without importing Locust."""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path


@dataclass(frozen=True)
class Level:
    concurrency: float
    rps: float
    p99_ms: float


@dataclass(frozen=True)
class Capacity:
    """One pod's measured curve (loadtest/capacity-measured.json): closed-loop concurrency →
    throughput and p99, under the pod's own CPU and memory limits."""

    levels: tuple[Level, ...]
    slo_p99_ms: float
    max_concurrency_within_slo: int
    resources: dict[str, str]
    measured: str

    @classmethod
    def load(cls, path: Path) -> "Capacity":
        data = json.loads(path.read_text())
        levels = tuple(
            Level(float(x["concurrency"]), float(x["rps"]), float(x["p99_ms"]))
            for x in sorted(data["levels"], key=lambda x: x["concurrency"])
        )
        if not levels or any(x.concurrency <= 0 or x.rps <= 0 for x in levels):
            raise ValueError(f"{path}: levels need positive concurrency and rps")
        return cls(
            levels,
            float(data["slo_p99_ms"]),
            int(data["max_concurrency_within_slo"]),
            dict(data["resources"]),
            str(data["measured"]),
        )

    @cached_property
    def _throughput(self) -> list[tuple[float, float]]:
        return throughput((x.concurrency, x.rps) for x in self.levels)

    def rps_at(self, concurrency: float) -> float:
        """Throughput with `concurrency` in flight; below the first level in proportion (the pod
        is busy that share of the time); past the last, the best."""
        return interpolate(self._throughput, concurrency)

    def p99_at(self, concurrency: float) -> float:
        points = [(x.concurrency, x.p99_ms) for x in self.levels]
        return interpolate(points, max(concurrency, self.levels[0].concurrency))

    def concurrency_for(self, rps: float, limit: float) -> float:
        """The concurrency at which a pod carries `rps` (Little's law along the curve), at most
        `limit`: rps_at inverted."""
        points = self._throughput
        for (c0, r0), (c1, r1) in zip(points, points[1:], strict=False):
            if rps <= r1:
                found = c0 if r1 == r0 else c0 + (c1 - c0) * (rps - r0) / (r1 - r0)
                return min(found, limit)
        return limit


def interpolate(points: list[tuple[float, float]], x: float) -> float:
    """y at `x` along `points` (in order of x): linear between them, the last y past the last."""
    if x >= points[-1][0]:
        return points[-1][1]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[0][1]


def throughput(levels: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """(concurrency, req/s) points from (0, 0) up, of `levels` in order of concurrency: a noisy dip
    smoothed out, as a pod carries at least what it carried with fewer in flight (the running
    maximum)."""
    points, best = [(0.0, 0.0)], 0.0
    for concurrency, rps in levels:
        best = max(best, rps)
        points.append((concurrency, best))
    return points
