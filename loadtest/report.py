"""A PNG of the run: latency percentiles and req/s over time, and each revision's share."""

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from matplotlib.figure import Figure

from loadtest.revisions import Share

PERCENTILES = (0.5, 0.95, 0.99)


def seconds(timestamp: str) -> float:
    """Epoch seconds of a locust history timestamp ("2026-11-26T11:00:00Z")."""
    return datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def write_png(history: list[dict], shares: list[Share], path: str | Path) -> None:
    plot(history, shares).savefig(path, format="png")


def plot(history: list[dict], shares: list[Share]) -> Figure:
    """Locust's stats history (current percentiles, req/s, users) over the revision shares."""
    times = [seconds(row["time"]) for row in history]
    start = min(times + [share.start for share in shares], default=0.0)
    elapsed = [t - start for t in times]

    figure = Figure(figsize=(10, 9), layout="constrained")
    latency, throughput, split = figure.subplots(3, 1, sharex=True)
    for percentile in PERCENTILES:
        values = [row[f"response_time_percentile_{percentile}"][1] for row in history]
        latency.plot(elapsed, values, label=f"p{percentile * 100:g}")
    latency.set(ylabel="latency, ms (last 10 s)", title="house-price load test")
    latency.legend(loc="upper left")

    throughput.plot(elapsed, [row["current_rps"][1] for row in history], label="requests/s")
    throughput.plot(
        elapsed, [row["current_fail_per_sec"][1] for row in history], label="failures/s"
    )
    throughput.set(ylabel="per second")
    throughput.legend(loc="upper left")
    users = throughput.twinx()
    users.step(elapsed, [row["user_count"][1] for row in history], color="grey", where="post")
    users.set(ylabel="users", ylim=(0, None))

    plot_shares(split, shares, start)
    split.set(ylabel="share of requests, %", xlabel="seconds since start", ylim=(0, 100))
    return figure


def plot_shares(axes, shares: list[Share], start: float) -> None:
    """One stacked bar per interval: each revision's share of the requests started in it."""
    bottoms: dict[float, float] = defaultdict(float)
    for revision in sorted({share.revision for share in shares}):
        mine = [share for share in shares if share.revision == revision]
        axes.bar(
            [share.start - start for share in mine],
            [share.share * 100 for share in mine],
            width=[share.seconds for share in mine],
            bottom=[bottoms[share.start] for share in mine],
            align="edge",
            label=revision,
        )
        for share in mine:
            bottoms[share.start] += share.share * 100
    if shares:
        axes.legend(loc="upper left")
