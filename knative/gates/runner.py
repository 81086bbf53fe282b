"""The gates of one gated run (``shift``, ``promote``), in their order, each in its own module:

- probes, before every step: the candidate answers, as itself, fast enough (``probes.py``);
- quality, once before any traffic moves, after the first probes (which warm the candidate up):
  the reference rows on candidate and incumbent (``quality.py``);
- live, after every step with ``--prometheus-url``: the step's real traffic (``live.py``), its
  predicted prices against the incumbent's (``prediction_shift.py``).

Their settings are ``settings.py``. A gate prints a line per check and returns a ``GateRun``;
what to do about a failure is the command's business.
"""

from typing import Any

from knative.errors import RolloutError
from knative.gates.checks import GateRun
from knative.gates.live import live_gate, preflight
from knative.gates.probes import probes_gate
from knative.gates.prometheus import TIMEOUT, Prometheus
from knative.gates.quality import quality_gate
from knative.gates.settings import GateSettings
from knative.text import percent
from knative.traffic.plan import tag_url


class Gates:
    """The gates of one run for ``candidate`` against ``incumbent``; waits run on ``clock``."""

    def __init__(
        self,
        clock: Any,
        settings: GateSettings,
        service: dict,
        names: tuple[str, str],
        timeout: float = TIMEOUT,
    ) -> None:
        self.clock, self.settings, (self.candidate, self.incumbent) = clock, settings, names
        self.urls = {
            self.candidate: settings.probe_url or _url(service, self.candidate, "--probe-url"),
            self.incumbent: settings.incumbent_url
            or _url(service, self.incumbent, "--incumbent-url"),
        }
        url = settings.prometheus_url
        self.prometheus = Prometheus(url, timeout) if url else None

    def describe(self) -> list[str]:
        settings = self.settings
        lines = [
            f"gate probes, before each step: {settings.probe_requests} predictions to "
            f"{self.urls[self.candidate]}, error ratio <= {settings.max_error_ratio:g}, "
            f"p99 <= {settings.max_p99_ms:g} ms",
            f"gate quality, before any traffic moves: reference rows from "
            f"{settings.model_data} to {self.candidate} and {self.incumbent} "
            f"({self.urls[self.incumbent]}), RMSE and MAE within card "
            f"+{percent(settings.card_tolerance)} and {self.incumbent} "
            f"+{percent(settings.incumbent_tolerance)}",
        ]
        if self.prometheus:
            lines.append(
                f"gate live, after each step: Prometheus at {self.prometheus.url}, at least "
                f"{settings.min_requests} requests, error ratio <= {settings.max_error_ratio:g}, "
                f"p99 <= {settings.max_p99_ms:g} ms, no worse than {self.incumbent}, predictions "
                f"within KS distance {settings.max_prediction_shift:g} of its (+ sampling); "
                f"not enough data: {settings.on_no_data}"
            )
        else:
            lines.append("gate live: off (--prometheus-url turns it on)")
        return lines

    def prepare(self) -> None:
        """Before anything moves: Prometheus answers and scrapes the incumbent."""
        if self.prometheus:
            print(preflight(self.prometheus, self.incumbent))

    def probes(self, step: int, of: int, percent: int) -> GateRun:
        run = probes_gate(self.urls[self.candidate], self.candidate, step, self.settings)
        print(f"gate before step {step}/{of} ({percent} %): {run.checks[0].line}")
        return run

    def quality(self) -> GateRun:
        run = quality_gate(self.urls, self.candidate, self.incumbent, self.settings)
        return _shown(run, "quality")

    @property
    def live_on(self) -> bool:
        return self.prometheus is not None

    def live(self, step: int) -> GateRun:
        names = (self.candidate, self.incumbent)
        run = live_gate(self.prometheus, self.clock, names, step, self.settings)
        return _shown(run, f"live after step {step}")


def _shown(run: GateRun, prefix: str) -> GateRun:
    for check in run.checks:
        print(f"{prefix}: {check.line}")
    return run


def _url(service: dict, revision: str, option: str) -> str:
    """The revision's tag URL, where requests for it alone go."""
    url = tag_url(service, revision)
    if url is None:
        raise RolloutError(
            f"{revision} has no tag URL to send requests to; tag it or pass {option}"
        )
    return url
