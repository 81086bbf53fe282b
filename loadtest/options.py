"""The load test's own options: command line, LOCUST_<OPTION> env var, or locust.conf."""

from argparse import ArgumentParser

from loadtest.shapes import SHAPES


def env_var(flag: str) -> str:
    """--slo-p95-ms -> LOCUST_SLO_P95_MS, the way locust names its own variables."""
    return "LOCUST_" + flag.removeprefix("--").upper().replace("-", "_")


def add_arguments(parser: ArgumentParser) -> None:
    """locust `init_command_line_parser` listener."""
    group = parser.add_argument_group("house-price load test")

    def add(flag: str, **kwargs: object) -> None:
        group.add_argument(flag, env_var=env_var(flag), **kwargs)

    add(
        "--shape",
        choices=sorted(SHAPES),
        default="steady",
        help="load shape; users and duration come from --users and --run-time",
    )
    add(
        "--scale-to-zero-window",
        type=float,
        default=90.0,
        help="seconds of silence after which a revision may have scaled to zero",
    )
    add(
        "--model-card",
        default="model_data/model-v1.json",
        help="model card whose feature ranges rows are drawn from",
    )
    add(
        "--revision-interval",
        type=int,
        default=5,
        help="seconds per interval of the revision split",
    )
    add(
        "--slo-p95-ms",
        type=float,
        required=True,
        help="highest allowed 95th percentile latency of warm requests, ms",
    )
    add(
        "--slo-p99-ms",
        type=float,
        required=True,
        help="highest allowed 99th percentile latency of warm requests, ms",
    )
    add(
        "--slo-failure-ratio",
        type=float,
        required=True,
        help="highest allowed share of failed requests, 0..1",
    )
    add(
        "--slo-min-rps",
        type=float,
        required=True,
        help="lowest allowed mean throughput over the run, requests/s",
    )
