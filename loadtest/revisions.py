"""Count which Knative revision answered (the X-Revision header), per interval of the run."""

import csv
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

HEADER = "X-Revision"
UNKNOWN = "(none)"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Share:
    """One revision's part of the requests that started in one interval."""

    start: float  # epoch seconds when the interval began
    seconds: int  # the interval's length
    revision: str
    requests: int
    failures: int
    share: float  # of the interval's requests, 0..1


class RevisionCounter:
    """A locust `request` event listener counting answers per revision and per interval.

    With `live`, each interval's split is logged as soon as the next interval begins (used
    while a rollout shifts traffic).
    """

    def __init__(self, origin: float, interval: int = 5, live: bool = False):
        if interval < 1:
            raise ValueError(f"revision interval must be at least 1 s, got {interval}")
        self.interval = interval
        self.live = live
        self.origin = origin  # epoch seconds, before the first request; intervals count from it
        self.requests: dict[int, Counter[str]] = defaultdict(Counter)
        self.failures: dict[int, Counter[str]] = defaultdict(Counter)

    def on_request(self, start_time: float, response=None, exception=None, **_kwargs) -> None:
        headers = getattr(response, "headers", None) or {}
        revision = headers.get(HEADER) or UNKNOWN
        slot = int((start_time - self.origin) // self.interval)
        if self.live and self.requests and slot > max(self.requests):
            logger.info(self.describe(max(self.requests)))
        self.requests[slot][revision] += 1
        if exception is not None:
            self.failures[slot][revision] += 1

    def shares(self) -> list[Share]:
        return [
            Share(
                self.origin + slot * self.interval,
                self.interval,
                revision,
                count,
                self.failures[slot][revision],
                count / sum(counts.values()),
            )
            for slot, counts in sorted(self.requests.items())
            for revision, count in sorted(counts.items())
        ]

    def describe(self, slot: int) -> str:
        """One interval as a line: requests, failures and each revision's share."""
        counts = self.requests[slot]
        split = ", ".join(
            f"{revision} {count / sum(counts.values()):.0%}"
            for revision, count in sorted(counts.items())
        )
        failures = sum(self.failures[slot].values())
        return (
            f"revisions {slot * self.interval}-{(slot + 1) * self.interval}s: "
            f"{sum(counts.values())} requests, {failures} failures; {split}"
        )

    def totals(self) -> Counter[str]:
        return sum(self.requests.values(), Counter())

    def summary(self) -> str:
        """The whole run's split, e.g. "requests per revision: house-price-v1 950 (95%), ..."."""
        totals = self.totals()
        split = ", ".join(
            f"{revision} {count} ({count / sum(totals.values()):.0%})"
            for revision, count in sorted(totals.items())
        )
        return f"requests per revision: {split or 'none'}"

    def write_csv(self, path: str | Path) -> None:
        with open(path, "w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["Timestamp", "Seconds", "Revision", "Requests", "Failures", "Share"])
            for share in self.shares():
                writer.writerow(
                    [
                        f"{share.start:.3f}",
                        share.seconds,
                        share.revision,
                        share.requests,
                        share.failures,
                        f"{share.share:.4f}",
                    ]
                )
