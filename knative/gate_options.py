"""The command-line options of the gated commands (``shift``, ``promote``) and their settings."""

import argparse
from pathlib import Path
from urllib.parse import urlsplit

from knative.errors import RolloutError
from knative.gate import Thresholds
from knative.gates import GateSettings
from knative.live import LiveLimits
from knative.plan import parse_duration
from knative.quality import QualityLimits
from knative.reference import MODEL_DATA

REPORT = "reports/rollout-{command}.json"
MIN_WINDOW = 2.0  # seconds: Prometheus needs two scrapes in a window to see a rate


def checked(parse, low=None, high=None):
    """An argparse ``type`` from a parser, with an optional inclusive range (NaN is outside)."""

    def convert(text: str):
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


def gate_options() -> argparse.ArgumentParser:
    """The options every gated command takes (a parent parser)."""
    gated = argparse.ArgumentParser(add_help=False)
    url, ratio, number = checked(http_url), checked(float, 0, 1), checked(float, 0)
    duration = checked(parse_duration)
    gated.add_argument("--interval", type=duration, default="30s", help="each step's hold")
    gated.add_argument("--report", default=REPORT, help="the run's JSON report")
    probes = gated.add_argument_group("probes, before each step")
    probes.add_argument("--probe-url", type=url, help="probe here instead of the tag URL")
    probes.add_argument("--probe-requests", type=checked(int, 1), default=50, help="predictions")
    probes.add_argument("--max-error-ratio", type=ratio, default=0.01, help="also live traffic's")
    probes.add_argument("--max-p99-ms", type=number, default=500.0, help="also live traffic's")
    quality = gated.add_argument_group("quality, before any traffic moves")
    quality.add_argument("--incumbent-url", type=url, help="instead of the incumbent's tag URL")
    quality.add_argument("--model-data", type=Path, default=MODEL_DATA, help="cards and rows")
    quality.add_argument("--card-tolerance", type=number, default=0.05, help="RMSE, MAE vs card")
    quality.add_argument("--incumbent-tolerance", type=number, default=0.10, help="vs incumbent")
    quality.add_argument("--agreement-delta", type=number, default=2.0, help="rows apart by more")
    quality.add_argument("--max-disagreeing-rows", type=ratio, help="share; unset: reported only")
    live = gated.add_argument_group("live traffic, after each step")
    live.add_argument("--prometheus-url", type=url, help="turns the live gate on")
    live.add_argument("--min-requests", type=checked(int, 1), default=100, help="for a verdict")
    live.add_argument("--on-no-data", choices=["wait", "fail"], default="wait", help="too few")
    live.add_argument("--no-data-timeout", type=duration, default="300s", help="longest wait")
    live.add_argument("--error-ratio-margin", type=ratio, default=0.005, help="vs incumbent")
    live.add_argument("--latency-tolerance", type=number, default=0.5, help="p99 vs incumbent")
    return gated


def gate_settings(args: argparse.Namespace) -> GateSettings:
    if args.prometheus_url and args.interval < MIN_WINDOW:
        raise RolloutError(
            f"--interval {args.interval:g} s is too short a window of live traffic for "
            f"--prometheus-url: at least {MIN_WINDOW:g} s (several scrape intervals)"
        )
    return GateSettings(
        probes=Thresholds(args.probe_requests, args.max_error_ratio, args.max_p99_ms),
        probe_url=args.probe_url,
        incumbent_url=args.incumbent_url,
        model_data=args.model_data,
        quality=QualityLimits(
            card_tolerance=args.card_tolerance,
            incumbent_tolerance=args.incumbent_tolerance,
            agreement_delta=args.agreement_delta,
            max_disagreeing=args.max_disagreeing_rows,
        ),
        prometheus_url=args.prometheus_url,
        live=LiveLimits(
            args.min_requests,
            args.on_no_data,
            args.no_data_timeout,
            max_error_ratio=args.max_error_ratio,
            error_ratio_margin=args.error_ratio_margin,
            max_p99_ms=args.max_p99_ms,
            latency_tolerance=args.latency_tolerance,
        ),
        report=Path(args.report.replace("{command}", args.command)),
    )
