"""The record of one gated run: every gate, every check and its numbers, the splits applied, the
verdict. Written as JSON (``--report``), printed as a short table, and summed up in an annotation
on the Service that ``status`` shows.
"""

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ANNOTATION = "house-price/last-rollout"  # on the Knative Service; `status` reads it


@dataclass(frozen=True)
class Check:
    """One check of a gate: ``passed`` is None when it is reported but not gated."""

    name: str
    passed: bool | None
    line: str  # the line an operator reads, numbers included
    numbers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class GateRun:
    """One gate, once: its checks and what it cost (requests sent or queries made, seconds)."""

    gate: str  # probes, quality or live
    step: int | None  # the traffic step it guarded (quality: None, before any traffic moves)
    checks: list[Check]
    requests: int
    seconds: float

    @property
    def passed(self) -> bool:
        return all(check.passed is not False for check in self.checks)

    def failures(self) -> str:
        return "; ".join(check.line for check in self.checks if check.passed is False)


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
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = ["  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[4]])
                 for row in rows]  # fmt: skip
        return "\n".join(
            [*lines, f"verdict: {self.verdict}" + (f": {self.reason}" * bool(self.reason))]
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


def percent(share: float, digits: int = 0) -> str:
    """0.125 -> ``12.5 %`` (with ``digits=1``), as the rest of the tool writes percents."""
    return f"{share * 100:.{digits}f} %"


def _result(passed: bool | None) -> str:
    return {True: "ok", False: "FAILED", None: "reported"}[passed]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
