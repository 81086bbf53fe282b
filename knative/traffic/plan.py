"""Pure traffic planning: read a Service's traffic, validate it, compute the next split.

A ``Traffic`` is what Knative routes, with every target pinned to a revision name: the percent
each revision gets (summing to 100) and the revision each tag points to.
"""

import math
import re
from dataclasses import dataclass

from knative.errors import RolloutError
from knative.traffic.rules import traffic_errors

BLUE, GREEN = "blue", "green"
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class Traffic:
    """Percent per revision and the revision each tag points to."""

    percents: dict[str, int]
    tags: dict[str, str]

    def percent(self, revision: str) -> int:
        return self.percents.get(revision, 0)

    def describe(self) -> str:
        """``house-price-v2 10 %, house-price-v1 90 %``: the split an operator reads."""
        return ", ".join(f"{rev} {pct} %" for rev, pct in self.percents.items() if pct)


def parse_traffic(targets: list[dict] | None, latest_ready: str | None) -> Traffic:
    """Read ``spec.traffic``; ``latestRevision`` targets resolve to the latest ready revision."""
    percents: dict[str, int] = {}
    tags: dict[str, str] = {}
    for target in targets or [{"latestRevision": True, "percent": 100}]:
        revision = target.get("revisionName")
        if not revision and target.get("latestRevision"):
            revision = latest_ready
        if not revision:
            raise RolloutError("traffic follows the latest revision, but no revision is ready yet")
        percents[revision] = percents.get(revision, 0) + (target.get("percent") or 0)
        if target.get("tag"):
            tags[target["tag"]] = revision
    return Traffic(percents, tags)


def traffic_of(service: dict) -> Traffic:
    """The split a Service asks for (``spec.traffic``), ``latestRevision`` resolved."""
    status = service.get("status") or {}
    return parse_traffic(service["spec"].get("traffic"), status.get("latestReadyRevisionName"))


def tag_url(service: dict, revision: str) -> str | None:
    """The URL of a tag on ``revision``, from ``status.traffic`` (where Knative publishes it)."""
    for target in (service.get("status") or {}).get("traffic") or []:
        if target.get("revisionName") == revision and target.get("url"):
            return target["url"]
    return None


def to_targets(traffic: Traffic) -> list[dict]:
    """The whole ``spec.traffic`` list; a revision with 0 % and no tag is left out (as kn does)."""
    revisions = list(traffic.percents) + [
        r for r in traffic.tags.values() if r not in traffic.percents
    ]
    targets = []
    for revision in dict.fromkeys(revisions):
        tags = [tag for tag, rev in traffic.tags.items() if rev == revision] or [None]
        for index, tag in enumerate(tags):
            percent = traffic.percent(revision) if index == 0 else 0
            if percent or tag:
                target = {"revisionName": revision, "percent": percent, "latestRevision": False}
                targets.append(target | ({"tag": tag} if tag else {}))
    return targets


def validate(traffic: Traffic) -> Traffic:
    """``traffic`` if Knative would admit it as ``spec.traffic``, else every broken rule."""
    errors = traffic_errors(to_targets(traffic), None)
    if errors:
        raise RolloutError("Knative would reject this traffic: spec.traffic" + "; ".join(errors))
    return traffic


def shifted(current: Traffic, candidate: str, percent: int) -> Traffic:
    """``candidate`` at ``percent``; the rest shared by the other revisions as they share it now."""
    others = {rev: pct for rev, pct in current.percents.items() if rev != candidate}
    if sum(others.values()) == 0:
        raise RolloutError(f"{candidate} already has all traffic; there is nothing to shift from")
    percents = _apportion(others, 100 - percent) | {candidate: percent}
    return validate(Traffic(percents, dict(current.tags)))


def _apportion(weights: dict[str, int], total: int) -> dict[str, int]:
    """Split ``total`` in whole percents proportionally to ``weights`` (largest remainder)."""
    whole = sum(weights.values())
    shares = {key: divmod(weight * total, whole) for key, weight in weights.items()}
    result = {key: quotient for key, (quotient, _) in shares.items()}
    leftover = total - sum(result.values())
    for key in sorted(shares, key=lambda k: shares[k][1], reverse=True)[:leftover]:
        result[key] += 1
    return result


def for_deploy(current: Traffic, new_revision: str) -> Traffic:
    """The serving revision keeps its 100 % tagged blue; the new one joins at 0 % tagged green."""
    serving = [rev for rev, pct in current.percents.items() if pct]
    if len(serving) != 1:
        raise RolloutError(
            f"traffic is split ({current.describe()}); promote or roll back before deploying"
        )
    if serving[0] == new_revision:
        raise RolloutError(f"{new_revision} already serves all traffic")
    kept = {tag: rev for tag, rev in current.tags.items() if tag not in (BLUE, GREEN)}
    percents = {rev: 0 for rev in kept.values()} | {serving[0]: 100, new_revision: 0}
    return validate(Traffic(percents, kept | {BLUE: serving[0], GREEN: new_revision}))


def for_rollback(current: Traffic) -> Traffic:
    """All traffic to the revision tagged blue; every tag stays where it is."""
    if BLUE not in current.tags:
        raise RolloutError("no revision is tagged blue, so there is nothing to roll back to")
    percents = {rev: 0 for rev in current.percents} | {current.tags[BLUE]: 100}
    return validate(Traffic(percents, dict(current.tags)))


def tagged(current: Traffic, tag: str) -> str:
    """The revision that ``tag`` points to."""
    if tag not in current.tags:
        raise RolloutError(
            f"no revision is tagged {tag}; deploy tags the serving revision blue, the new one green"
        )
    return current.tags[tag]


def parse_steps(text: str) -> list[int]:
    """``10,25,50,100`` → [10, 25, 50, 100]: strictly increasing percents from 1 to 100."""
    try:
        steps = [int(part) for part in text.split(",")]
    except ValueError:
        raise RolloutError(f"--steps wants comma-separated whole percents, got {text!r}") from None
    if any(not 1 <= s <= 100 for s in steps) or steps != sorted(set(steps)):
        raise RolloutError(f"--steps must rise strictly within 1..100, got {text!r}")
    return steps


def parse_go_duration(text: str) -> float | None:
    """Seconds in a Go duration (``60s``, ``1m30s``, ``500ms``, ``0``), None if it is not one."""
    if text == "0":
        return 0.0
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return None
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


def parse_duration(text: str) -> float:
    """A Go duration as kubectl takes it (`30s`, `5m`, `1h30m`, `250ms`) or plain seconds."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = parse_go_duration(text.strip())
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        raise RolloutError(f"not a duration: {text!r} (use e.g. 30s, 5m, 1h)")
    return seconds
