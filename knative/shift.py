"""The gated commands: ``shift`` raises the candidate's percent step by step, ``promote`` in one.

Before each step the candidate is probed; a failed gate, or a route that does not become ready,
puts back the split found when the command started, in one patch.
"""

from collections.abc import Callable

from knative.errors import RolloutError, WriteFailed
from knative.gate import Thresholds, probe, verdict
from knative.plan import BLUE, GREEN, Traffic, shifted, tagged, to_targets
from knative.restore import restore
from knative.steps import (
    Context,
    apply,
    require_ready_revision,
    show_plan,
    traffic_of,
    wait_until_routed,
)


def promote(ctx: Context, limits: Thresholds, probe_url: str | None = None) -> int:
    """The revision tagged green to 100 % after one gate; the one tagged blue stays at 0 %."""
    current = traffic_of(ctx.service.get())
    candidate = tagged(current, GREEN)
    tagged(current, BLUE)  # rollback needs it, so promote refuses to run without it
    return shift(ctx, candidate, [100], 0, limits, probe_url)


def shift(
    ctx: Context,
    candidate: str,
    steps: list[int],
    interval: float,
    limits: Thresholds,
    probe_url: str | None = None,
) -> int:
    """Move ``candidate`` through ``steps`` percents, gating each step; resume where it stands."""
    service = ctx.service.get()
    start = traffic_of(service)
    require_ready_revision(ctx, candidate)
    todo = [step for step in steps if step > start.percent(candidate)]
    if not todo:
        print(f"nothing to do: {candidate} already has {start.percent(candidate)} %")
        return 0
    url = probe_url or _tag_url(service, candidate)
    print(
        f"shift {candidate} from {start.percent(candidate)} % through "
        f"{', '.join(map(str, todo))} %; gate: {limits.requests} probes of {url}, "
        f"error ratio <= {limits.max_error_ratio:g}, p99 <= {limits.max_p99_ms:g} ms"
    )
    if ctx.dry_run:
        _show_steps(ctx, service["spec"].get("traffic"), start, candidate, todo)
        return 0
    for number, percent in enumerate(todo, 1):
        if number > 1:
            print(f"waiting {interval:g} s before the next step")
            ctx.clock.sleep(interval)
        passed, summary = verdict(probe(url, candidate, limits.requests), limits)
        print(f"gate before step {number}/{len(todo)} ({percent} %): {summary}")
        if not passed:
            restore(ctx, start, f"gate failed before step {number}: {summary}", number > 1)
        try:
            apply(ctx, _step(candidate, percent))
        except WriteFailed as exc:
            raise RolloutError(f"{exc}; run shift again to go on from there, or rollback") from None
        try:
            live = traffic_of(wait_until_routed(ctx))
        except RolloutError as exc:
            restore(ctx, start, f"step {number} did not take: {exc}", True)
        print(f"step {number}/{len(todo)} done: {live.describe()}")
    print(f"done: {candidate} serves {todo[-1]} %")
    return 0


def _step(candidate: str, percent: int) -> Callable[[dict], Traffic]:
    return lambda fresh: shifted(traffic_of(fresh), candidate, percent)


def _tag_url(service: dict, revision: str) -> str:
    """The URL of a tag on ``revision``, from ``status.traffic`` (where Knative publishes it)."""
    for target in (service.get("status") or {}).get("traffic") or []:
        if target.get("revisionName") == revision and target.get("url"):
            return target["url"]
    raise RolloutError(f"{revision} has no tag URL to probe; tag it or pass --probe-url")


def _show_steps(ctx: Context, before: list[dict] | None, start: Traffic, candidate, todo) -> None:
    for number, percent in enumerate(todo, 1):
        after = shifted(start, candidate, percent)
        print(f"step {number}/{len(todo)}, after a passing gate:")
        show_plan(ctx, before, after)
        before = to_targets(after)
    print("if a gate fails, traffic goes back in one patch:")
    show_plan(ctx, before, start)
