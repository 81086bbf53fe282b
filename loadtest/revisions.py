"""Count who answered, per interval of the run: the revision (X-Revision) and the pod (X-Pod).

Intervals are aligned to the clock (multiples of the interval since the epoch), so counts from
several locust processes add up interval by interval. The server names its pod only when its
operator turns that on (EXPOSE_POD_NAME); without it the pod count is 0.
"""

import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

HEADER = "X-Revision"
POD_HEADER = "X-Pod"
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
    pods: int = 0  # distinct pods of the revision that answered in the interval


@dataclass
class Tally:
    requests: int = 0
    failures: int = 0
    pods: set[str] = field(default_factory=set)


class RevisionCounter:
    """Counts answers per interval, revision and pod: a locust `request` event listener.

    A worker `drain`s its counts into each report to the master, which `merge`s them. With
    `live`, each interval's split is logged once it is over and `lag` seconds have passed (the
    time workers' reports may take to arrive).
    """

    def __init__(self, interval: int = 5, live: bool = False, lag: float = 0.0) -> None:
        if interval < 1:
            raise ValueError(f"revision interval must be at least 1 s, got {interval}")
        self.interval = interval
        self.live = live
        self.lag = lag
        self.slots: dict[int, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
        self.logged = -1  # the last slot logged live

    def on_request(
        self,
        start_time: float,
        response: object = None,
        exception: BaseException | None = None,
        **_kwargs: object,
    ) -> None:
        headers = getattr(response, "headers", None) or {}
        self.add(start_time, headers.get(HEADER) or UNKNOWN, headers.get(POD_HEADER), exception)
        self.log_finished(start_time)

    def add(self, start_time: float, revision: str, pod: str | None, failed: object) -> None:
        tally = self.slots[int(start_time // self.interval)][revision]
        tally.requests += 1
        tally.failures += bool(failed)
        tally.pods.update([pod] if pod else [])

    def drain(self) -> list[list]:
        """The counts so far as plain lists (for locust's messages), and forget them."""
        rows = [
            [slot, revision, tally.requests, tally.failures, sorted(tally.pods)]
            for slot, revisions in self.slots.items()
            for revision, tally in revisions.items()
        ]
        self.slots.clear()
        return rows

    def merge(self, rows: list[list], now: float | None = None) -> None:
        """Add counts drained by another counter (a worker's)."""
        for slot, revision, requests, failures, pods in rows:
            tally = self.slots[slot][revision]
            tally.requests += requests
            tally.failures += failures
            tally.pods.update(pods)
        self.log_finished(time.time() if now is None else now)

    def log_finished(self, now: float) -> None:
        """Log, once, each interval that ended at least `lag` seconds ago (when live)."""
        if not self.live:
            return
        for slot in sorted(slot for slot in self.slots if slot > self.logged):
            if (slot + 1) * self.interval + self.lag > now:
                return
            logger.info(self.describe(slot))
            self.logged = slot

    def shares(self) -> list[Share]:
        return [
            Share(
                slot * self.interval,
                self.interval,
                revision,
                tally.requests,
                tally.failures,
                tally.requests / sum(t.requests for t in revisions.values()),
                len(tally.pods),
            )
            for slot, revisions in sorted(self.slots.items())
            for revision, tally in sorted(revisions.items())
        ]

    def describe(self, slot: int) -> str:
        """One interval as a line: requests, failures, and each revision's share (and pods)."""
        tallies = self.slots[slot]
        total = sum(tally.requests for tally in tallies.values())
        split = ", ".join(
            f"{revision} {tally.requests / total:.0%}" + pods(len(tally.pods))
            for revision, tally in sorted(tallies.items())
        )
        failures = sum(tally.failures for tally in tallies.values())
        clock = [
            time.strftime("%H:%M:%S", time.gmtime(s * self.interval)) for s in (slot, slot + 1)
        ]
        return f"revisions {clock[0]}-{clock[1]}: {total} requests, {failures} failures; {split}"

    def totals(self) -> Counter[str]:
        totals: Counter[str] = Counter()
        for revisions in self.slots.values():
            for revision, tally in revisions.items():
                totals[revision] += tally.requests
        return totals

    def pods(self) -> dict[str, set[str]]:
        """Every pod that answered, per revision, over the whole run."""
        seen: dict[str, set[str]] = defaultdict(set)
        for revisions in self.slots.values():
            for revision, tally in revisions.items():
                seen[revision] |= tally.pods
        return seen

    def summary(self) -> str:
        """The whole run's split, e.g. "requests per revision: house-price-v1 950 (95%, 2 pods)"."""
        totals, seen = self.totals(), self.pods()
        total = sum(totals.values())
        split = ", ".join(
            f"{revision} {count} ({count / total:.0%}{pods(len(seen[revision]), ', ')})"
            for revision, count in sorted(totals.items())
        )
        return f"requests per revision: {split or 'none'}"


def pods(count: int, separator: str = " ") -> str:
    """ "3 pods" for a log line, or nothing when the server does not name its pods."""
    return f"{separator}{count} pod{'s' * (count != 1)}" if count else ""
