"""The three gates of a gated run, with their settings, recording each run in the report:

- probes, before every step: the candidate answers, as itself, fast enough (``gate.py``);
- quality, once before any traffic moves: the reference rows on candidate and incumbent
  (``quality.py``);
- live, after every step with ``--prometheus-url``: the step's real traffic (``live.py``).
"""

import time
from dataclasses import dataclass, field
from pathlib import Path

from knative.errors import RolloutError
from knative.gate import Thresholds, p99, probe, verdict
from knative.live import LiveLimits, live_gate, preflight
from knative.prometheus import Prometheus
from knative.quality import QualityLimits, quality_gate
from knative.reference import MODEL_DATA
from knative.report import Check, GateRun, Report, percent


@dataclass(frozen=True)
class GateSettings:
    probes: Thresholds = field(default_factory=Thresholds)
    probe_url: str | None = None  # else the candidate's tag URL
    incumbent_url: str | None = None  # else the incumbent's tag URL
    model_data: Path = MODEL_DATA
    quality: QualityLimits = field(default_factory=QualityLimits)
    prometheus_url: str | None = None  # no live gate without it
    live: LiveLimits = field(default_factory=LiveLimits)
    report: Path = Path("reports/rollout.json")


class Gates:
    """The gates of one run of ``shift`` or ``promote`` for ``candidate`` against ``incumbent``."""

    def __init__(self, ctx, settings: GateSettings, service: dict, names: tuple[str, str]):
        self.ctx, self.settings, (self.candidate, self.incumbent) = ctx, settings, names
        self.urls = {
            self.candidate: settings.probe_url or _tag_url(service, self.candidate, "--probe-url"),
            self.incumbent: settings.incumbent_url
            or _tag_url(service, self.incumbent, "--incumbent-url"),
        }
        url = settings.prometheus_url
        self.prometheus = Prometheus(url) if url else None
        self.report: Report | None = None

    def describe(self) -> list[str]:
        probes, quality, live = self.settings.probes, self.settings.quality, self.settings.live
        lines = [
            f"gate probes, before each step: {probes.requests} predictions to "
            f"{self.urls[self.candidate]}, error ratio <= {probes.max_error_ratio:g}, "
            f"p99 <= {probes.max_p99_ms:g} ms",
            f"gate quality, before any traffic moves: reference rows from "
            f"{self.settings.model_data} to {self.candidate} and {self.incumbent} "
            f"({self.urls[self.incumbent]}), RMSE and MAE within card "
            f"+{percent(quality.card_tolerance)} and {self.incumbent} "
            f"+{percent(quality.incumbent_tolerance)}",
        ]
        if self.prometheus:
            lines.append(
                f"gate live, after each step: Prometheus at {self.prometheus.url}, at least "
                f"{live.min_requests} requests, error ratio <= {live.max_error_ratio:g}, "
                f"p99 <= {live.max_p99_ms:g} ms, no worse than {self.incumbent}; "
                f"not enough data: {live.on_no_data}"
            )
        else:
            lines.append("gate live: off (--prometheus-url turns it on)")
        return lines

    def prepare(self) -> None:
        """Before anything moves: Prometheus answers and scrapes the incumbent."""
        if self.prometheus:
            print(preflight(self.prometheus, self.incumbent))

    def quality(self) -> GateRun:
        run = quality_gate(
            self.urls,
            self.candidate,
            self.incumbent,
            self.settings.model_data,
            self.settings.quality,
        )
        return self._record(run, "quality")

    def probes(self, step: int, of: int, percent: int) -> GateRun:
        limits, started = self.settings.probes, time.perf_counter()
        answers = probe(self.urls[self.candidate], self.candidate, limits.requests)
        passed, summary = verdict(answers, limits)
        print(f"gate before step {step}/{of} ({percent} %): {summary}")
        failed = sum(1 for answer in answers if answer.problem)
        numbers = {"sent": len(answers), "failed": failed}
        if answers:
            numbers["p99_ms"] = p99([answer.latency_ms for answer in answers])
        check = Check("probes", passed, summary, numbers)
        seconds = time.perf_counter() - started
        return self._record(GateRun("probes", step, [check], 1 + len(answers), seconds), None)

    @property
    def live_on(self) -> bool:
        return self.prometheus is not None

    def live(self, step: int, interval: float) -> GateRun:
        names = (self.candidate, self.incumbent)
        run = live_gate(self.prometheus, self.ctx.clock, names, step, interval, self.settings.live)
        return self._record(run, f"live after step {step}")

    def _record(self, run: GateRun, prefix: str | None) -> GateRun:
        if prefix:
            for check in run.checks:
                print(f"{prefix}: {check.line}")
        if self.report:
            self.report.gates.append(run)
        return run


def _tag_url(service: dict, revision: str, option: str) -> str:
    """The URL of a tag on ``revision``, from ``status.traffic`` (where Knative publishes it)."""
    for target in (service.get("status") or {}).get("traffic") or []:
        if target.get("revisionName") == revision and target.get("url"):
            return target["url"]
    raise RolloutError(f"{revision} has no tag URL to send requests to; tag it or pass {option}")
