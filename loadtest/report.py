"""The run's reports: latency, req/s, each revision's share and its pods over time (PNG), and
the shares and pods per interval (CSV)."""

import csv
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from loadtest.revisions import Share

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PERCENTILES = (0.5, 0.95, 0.99)


def seconds(timestamp: str) -> float:
    """Epoch seconds of a locust history timestamp ("2026-11-26T11:00:00Z")."""
    return datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def write_png(history: list[dict], shares: list[Share], path: str | Path) -> None:
    plot(history, shares).savefig(path, format="png")


def write_csv(shares: list[Share], path: str | Path) -> None:
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(
            ["Timestamp", "Seconds", "Revision", "Requests", "Failures", "Share", "Pods"]
        )
        for s in shares:
            writer.writerow(
                [f"{s.start:.3f}", s.seconds, s.revision, s.requests, s.failures,
                 f"{s.share:.4f}", s.pods]
            )  # fmt: skip


def plot(history: list[dict], shares: list[Share]) -> "Figure":
    """Locust's stats history (current percentiles, req/s, users) over the revision shares."""
    from matplotlib.figure import Figure  # here: workers, which never draw, start a second sooner

    times = [seconds(row["time"]) for row in history]
    start = min(times + [share.start for share in shares], default=0.0)
    elapsed = [t - start for t in times]

    figure = Figure(figsize=(10, 12), layout="constrained")
    latency, throughput, split, pods = figure.subplots(4, 1, sharex=True)
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
    split.set(ylabel="share of requests, %", ylim=(0, 100))
    plot_pods(pods, shares, start)
    pods.set(xlabel="seconds since start")
    return figure


def plot_shares(axes: "Axes", shares: list[Share], start: float) -> None:
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


def plot_pods(axes: "Axes", shares: list[Share], start: float) -> None:
    """Distinct pods that answered, per revision and interval; 0 in intervals without answers."""
    if not any(share.pods for share in shares):
        axes.set(ylabel="pods", yticks=[])
        axes.text(0.5, 0.5, "pods not named: set EXPOSE_POD_NAME=1 on the server",
                  ha="center", va="center", transform=axes.transAxes)  # fmt: skip
        return
    step = shares[0].seconds
    slots = range(int(min(s.start for s in shares)), int(max(s.start for s in shares)) + 1, step)
    for revision in sorted({share.revision for share in shares}):
        counts = {share.start: share.pods for share in shares if share.revision == revision}
        y = [counts.get(slot, 0) for slot in slots]
        x = [slot - start for slot in slots]
        axes.step(x + [x[-1] + step], y + y[-1:], where="post", label=revision)  # last one too
    axes.set(ylabel="pods that answered", ylim=(0, None))
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.legend(loc="upper left")
