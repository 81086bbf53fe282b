"""What a gate finds: its checks, each with the line an operator reads and its numbers."""

from dataclasses import dataclass, field


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
