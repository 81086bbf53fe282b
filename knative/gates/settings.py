"""The gates' settings: the one place for every option of the gated commands (``shift``,
``promote``), its default and what it means. The command-line options are made from it
(``gate_options``), and so is the table of knative/README.md (``options_table``; a test holds the
README to it). A new gate adds its fields here.
"""

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from knative.errors import RolloutError
from knative.gates.model_card import MODEL_DATA
from knative.traffic.plan import parse_duration

REPORT = "reports/rollout-{command}.json"
MIN_WINDOW = 2.0  # seconds: Prometheus needs two scrapes in a window to see a rate
GROUPS = {
    "run": None,
    "probes": "probes, before each step",
    "quality": "quality, before any traffic moves",
    "live": "live traffic, after each step",
}


def checked(
    parse: Callable[[str], Any], low: float | None = None, high: float | None = None
) -> Callable[[str], Any]:
    """An argparse ``type`` from a parser, with an optional inclusive range (NaN is outside)."""

    def convert(text: str) -> Any:
        try:
            value = parse(text)
        except (RolloutError, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if (low is not None and not value >= low) or (high is not None and not value <= high):
            wanted = f"at least {low}" if high is None else f"within {low}..{high}"
            raise argparse.ArgumentTypeError(f"{text}: wanted a number {wanted}")
        return value

    return convert


def http_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"wanted an http:// or https:// URL, got {text!r}")
    return text


URL, RATIO, NUMBER = checked(http_url), checked(float, 0, 1), checked(float, 0)
COUNT, DURATION = checked(int, 1), checked(parse_duration)


@dataclass(frozen=True)
class Option:
    """How a setting is given on the command line and shown in the README."""

    group: str  # a key of GROUPS
    text: str | None  # the default as typed on the command line; None: unset
    parse: Callable[[str], Any]
    help: str  # a few words, for --help and the README
    shown: str | None = None  # the README's default, if not ``text``
    choices: tuple[str, ...] | None = None


def option(
    group: str, text: str | None, parse: Callable[[str], Any], help: str, **more: Any
) -> Any:
    """A settings field whose default is ``text`` parsed, carrying its ``Option``."""
    default = None if text is None else parse(text)
    return field(default=default, metadata={"option": Option(group, text, parse, help, **more)})


@dataclass(frozen=True)
class GateSettings:
    """Every gate's limits and sources; each field is the option of the same name."""

    interval: float = option("run", "30s", DURATION, "how long each step carries traffic")
    report: str = option("run", REPORT, str, "the run's JSON report; {command}: shift or promote")
    probe_url: str | None = option(
        "probes", None, URL, "probe here, not at the candidate's tag URL", shown="tag URL"
    )
    probe_requests: int = option("probes", "50", COUNT, "predictions per round of probes")
    max_error_ratio: float = option(
        "probes", "0.01", RATIO, "highest share of failed requests (also live traffic's)"
    )
    max_p99_ms: float = option(
        "probes", "500", NUMBER, "highest p99 latency in ms (also live traffic's)"
    )
    incumbent_url: str | None = option(
        "quality", None, URL, "ask the incumbent here, not at its tag URL", shown="tag URL"
    )
    model_data: Path = option(
        "quality",
        str(MODEL_DATA),
        Path,
        "the model cards and reference rows",
        shown="`model_data/`",
    )
    card_tolerance: float = option(
        "quality", "0.05", NUMBER, "RMSE and MAE at most this share above the card's"
    )
    incumbent_tolerance: float = option(
        "quality", "0.10", NUMBER, "... and above the incumbent's, measured now"
    )
    agreement_delta: float = option(
        "quality", "2.0", NUMBER, "rows whose predictions differ by more ($1000s) disagree"
    )
    max_disagreeing_rows: float | None = option(
        "quality", None, RATIO, "highest share of rows that disagree", shown="unset: reported only"
    )
    prometheus_url: str | None = option(
        "live", None, URL, "read live traffic here", shown="unset: no live gate"
    )
    min_requests: int = option(
        "live", "100", COUNT, "candidate requests in the window for a verdict"
    )
    on_no_data: str = option(
        "live", "wait", str, "too few requests: wait (bounded) or fail", choices=("wait", "fail")
    )
    no_data_timeout: float = option("live", "300s", DURATION, "longest wait for enough requests")
    error_ratio_margin: float = option(
        "live", "0.005", RATIO, "error ratio at most this above the incumbent's"
    )
    latency_tolerance: float = option(
        "live", "0.5", NUMBER, "p99 at most this share above the incumbent's"
    )
    max_prediction_shift: float = option(
        "live", "0.10", RATIO, "KS distance of the predictions from the incumbent's, beyond noise"
    )

    def report_path(self, command: str) -> Path:
        return Path(self.report.replace("{command}", command))


def _options() -> list[tuple[str, Option]]:
    return [(f.name, f.metadata["option"]) for f in fields(GateSettings)]


def gate_options() -> argparse.ArgumentParser:
    """The options every gated command takes (a parent parser)."""
    gated = argparse.ArgumentParser(add_help=False)
    groups = {
        key: gated.add_argument_group(title) if title else gated for key, title in GROUPS.items()
    }
    for name, spec in _options():
        groups[spec.group].add_argument(
            "--" + name.replace("_", "-"),
            type=spec.parse,
            default=spec.text,
            choices=spec.choices,
            help=spec.help,
        )
    return gated


def gate_settings(args: argparse.Namespace) -> GateSettings:
    """The settings the command line gives."""
    if args.prometheus_url and args.interval < MIN_WINDOW:
        raise RolloutError(
            f"--interval {args.interval:g} s is too short a window of live traffic for "
            f"--prometheus-url: at least {MIN_WINDOW:g} s (several scrape intervals)"
        )
    return GateSettings(**{name: getattr(args, name) for name, _ in _options()})


def options_table() -> str:
    """The README's table of the gate options, made from the settings."""
    lines = ["| option | default | gate | what |", "|---|---|---|---|"]
    for name, spec in _options():
        shown = spec.shown or f"`{spec.text}`"
        gate = GROUPS[spec.group] or "every gated run"
        lines.append(f"| `--{name.replace('_', '-')}` | {shown} | {gate} | {spec.help} |")
    return "\n".join(lines)
