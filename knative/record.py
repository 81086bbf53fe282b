"""The record of one gated run, whatever its end: every gate, every check and its numbers, the
splits applied, the verdict. Written as JSON (``--report``), printed as a short table, and
summed up in an annotation on the Service that ``status`` shows.
"""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from knative.errors import GateFailed, Interrupted, RolloutError, Superseded
from knative.gates.checks import GateRun
from knative.kube.service import KnativeService
from knative.text import aligned
from knative.traffic.plan import Traffic, traffic_of

ANNOTATION = "house-price/last-rollout"  # on the Knative Service; `status` reads it


@dataclass
class Report:
    command: str
    service: str
    candidate: str
    start_traffic: dict[str, int]
    incumbent: str | None = None
    started: str = field(default_factory=lambda: _now())
    steps: list[dict] = field(default_factory=list)
    gates: list[GateRun] = field(default_factory=list)
    verdict: str = "running"  # then passed, failed, error, superseded or interrupted
    reason: str | None = None
    final_traffic: dict[str, int] | None = None
    finished: str | None = None

    def gate_ran(self, run: GateRun) -> GateRun:
        """Keep ``run``; hand it back to be judged."""
        self.gates.append(run)
        return run

    def step_applied(self, number: int, percent: int, traffic: dict[str, int]) -> None:
        self.steps.append({"step": number, "percent": percent, "traffic": traffic, "at": _now()})

    def finish(self, verdict: str, reason: str | None, traffic: dict[str, int] | None) -> None:
        self.verdict, self.reason, self.final_traffic = verdict, reason, traffic
        self.finished = _now()

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = asdict(self)
        for run, record in zip(self.gates, data["gates"], strict=True):
            record["passed"] = run.passed
        path.write_text(json.dumps(data, indent=2) + "\n")

    def table(self) -> str:
        """One row per gate run: what it checked, its verdict and its cost."""
        rows = [("GATE", "STEP", "RESULT", "COST", "CHECKS")]
        for run in self.gates:
            checks = ", ".join(f"{c.name} {_result(c.passed)}" for c in run.checks)
            cost = f"{run.requests} req, {run.seconds:.2f} s"
            step = "-" if run.step is None else str(run.step)
            rows.append((run.gate, step, "ok" if run.passed else "FAILED", cost, checks))
        return "\n".join(
            [*aligned(rows), f"verdict: {self.verdict}" + (f": {self.reason}" * bool(self.reason))]
        )

    def annotation(self, path: Path) -> str:
        """The verdict in one small JSON object, for the Service's annotation."""
        summary = {
            "verdict": self.verdict,
            "command": self.command,
            "candidate": self.candidate,
            "incumbent": self.incumbent,
            "finished": self.finished,
            "traffic": self.final_traffic,
            "reason": (self.reason or "")[:500] or None,
            "report": str(path),
        }
        return json.dumps(summary, separators=(",", ":"))


@contextmanager
def recorded(
    service: KnativeService, command: str, names: tuple[str, str], start: Traffic, path: Path
) -> Iterator[Report]:
    """The ``Report`` of the run inside the block (``names``: candidate, incumbent), written at
    ``path`` before and after it, shown, and its verdict annotated on the Service."""
    report = Report(command, service.name, names[0], dict(start.percents), incumbent=names[1])
    try:
        report.write(path)  # verdict "running": a run that cannot keep its record does not start
    except OSError as exc:
        failed = f"cannot write the report {path}: {exc.strerror}; nothing was changed"
        raise RolloutError(failed) from None
    try:
        yield report
    except GateFailed as exc:
        _finish(service, report, "failed", str(exc))
        raise
    except Superseded as exc:  # another writer holds the Service now: leave it alone
        report.finish("superseded", str(exc), None)
        raise
    except RolloutError as exc:
        _finish(service, report, "error", str(exc))
        raise
    except (KeyboardInterrupt, Interrupted) as exc:
        report.finish("interrupted", str(exc) or "interrupted by the operator", None)
        raise
    else:
        _finish(service, report, "passed", None)
    finally:
        try:
            report.write(path)
        except OSError as exc:
            print(f"warning: the report {path} was not written: {exc.strerror}", file=sys.stderr)
        print(report.table())
        print(f"report: {path}")
        if report.verdict not in ("interrupted", "superseded"):
            _annotate(service, report, path)


def _finish(service: KnativeService, report: Report, verdict: str, reason: str | None) -> None:
    """The verdict, with the traffic as the Service says it is now (None if it cannot be read)."""
    try:
        traffic = dict(traffic_of(service.get()).percents)
    except RolloutError:
        traffic = None
    report.finish(verdict, reason, traffic)


def _annotate(service: KnativeService, report: Report, path: Path) -> None:
    try:
        service.annotate(ANNOTATION, report.annotation(path))
    except RolloutError as exc:
        print(f"warning: the verdict is not on the Service: {exc}", file=sys.stderr)


def _result(passed: bool | None) -> str:
    return {True: "ok", False: "FAILED", None: "reported"}[passed]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
