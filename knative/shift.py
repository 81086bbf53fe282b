"""The gated commands: ``shift`` raises the candidate's percent step by step, ``promote`` in one.

The probes run before each step, the quality gate once before the first, and the live
gate (``--prometheus-url``) after each step has carried traffic for ``--interval``. A failed gate,
or a route that does not become ready, puts back the split found when the command started, in
one patch. Every run is recorded (``record.py``).
"""

from collections.abc import Callable

from knative.errors import GateFailed, RolloutError, WriteFailed
from knative.gates import Gates, GateSettings
from knative.plan import BLUE, GREEN, Traffic, shifted, tagged, to_targets
from knative.record import recorded
from knative.restore import restore
from knative.steps import (
    Context,
    apply,
    require_ready_revision,
    show_plan,
    traffic_of,
    wait_until_routed,
)


def promote(ctx: Context, settings: GateSettings, interval: float = 0) -> int:
    """The revision tagged green to 100 % after its gates; the one tagged blue stays at 0 %."""
    current = traffic_of(ctx.service.get())
    candidate = tagged(current, GREEN)
    tagged(current, BLUE)  # rollback needs it, so promote refuses to run without it
    return shift(ctx, candidate, [100], interval, settings, "promote")


def shift(ctx, candidate, steps, interval, settings: GateSettings, command="shift") -> int:
    """Move ``candidate`` through ``steps`` percents, gating each step; resume where it stands."""
    service = ctx.service.get()
    start = traffic_of(service)
    require_ready_revision(ctx, candidate)
    todo = [step for step in steps if step > start.percent(candidate)]
    if not todo:
        print(f"nothing to do: {candidate} already has {start.percent(candidate)} %")
        return 0
    gates = Gates(ctx, settings, service, (candidate, incumbent_of(start, candidate)))
    print(
        f"shift {candidate} from {start.percent(candidate)} % through "
        f"{', '.join(map(str, todo))} %, against {gates.incumbent}"
    )
    print("\n".join(gates.describe()))
    if ctx.dry_run:
        _show_steps(ctx, service["spec"].get("traffic"), start, candidate, todo)
        return 0
    with recorded(ctx, gates, command, start, settings.report):
        _gated_steps(ctx, gates, start, todo, interval)
    print(f"done: {candidate} serves {todo[-1]} %")
    return 0


def incumbent_of(start: Traffic, candidate: str) -> str:
    """What the candidate is measured against: the revision tagged blue, else the largest other."""
    if start.tags.get(BLUE) not in (None, candidate):
        return start.tags[BLUE]
    others = {rev: pct for rev, pct in start.percents.items() if rev != candidate and pct}
    if not others:
        raise RolloutError(f"{candidate} already has all traffic; there is nothing to shift from")
    return max(others, key=others.__getitem__)


def _gated_steps(ctx: Context, gates: Gates, start: Traffic, todo: list[int], interval: float):
    gates.prepare()
    for number, percent in enumerate(todo, 1):
        if number > 1 and not gates.live_on:
            print(f"waiting {interval:g} s before the next step")
            ctx.clock.sleep(interval)
        probes = gates.probes(number, len(todo), percent)
        if not probes.passed:
            restore(
                ctx, start, f"gate failed before step {number}: {probes.failures()}", number > 1
            )
        quality = gates.quality() if number == 1 else None  # after probes: they warm it up
        if quality and not quality.passed:
            restore(ctx, start, f"quality gate failed before step 1: {quality.failures()}", False)
        try:
            apply(ctx, _step(gates.candidate, percent))
        except WriteFailed as exc:
            raise RolloutError(f"{exc}; run shift again to go on from there, or rollback") from None
        try:
            live = traffic_of(wait_until_routed(ctx))
        except RolloutError as exc:
            restore(ctx, start, f"step {number} did not take: {exc}", True)
        gates.report.step_applied(number, percent, live.percents)
        print(f"step {number}/{len(todo)} done: {live.describe()}")
        if gates.live_on:
            _live_gate(ctx, gates, start, (number, percent), interval)


def _live_gate(ctx, gates: Gates, start: Traffic, step: tuple[int, int], interval: float):
    (number, percent), after = step, f"after step {step[0]} ({step[1]} %)"
    print(f"live gate: judging {gates.candidate}'s {percent} % of the traffic in {interval:g} s")
    try:
        run = gates.live(number, interval)
    except RolloutError as exc:  # no verdict (Prometheus failed): traffic back, then exit 2
        try:
            restore(ctx, start, f"live gate {after} could not judge: {exc}", True)
        except GateFailed as restored:
            raise RolloutError(str(restored)) from None
    if not run.passed:
        restore(ctx, start, f"live gate failed {after}: {run.failures()}", True)


def _step(candidate: str, percent: int) -> Callable[[dict], Traffic]:
    return lambda fresh: shifted(traffic_of(fresh), candidate, percent)


def _show_steps(ctx: Context, before: list[dict] | None, start: Traffic, candidate, todo) -> None:
    for number, percent in enumerate(todo, 1):
        after = shifted(start, candidate, percent)
        print(f"step {number}/{len(todo)}, after a passing gate:")
        show_plan(ctx, before, after)
        before = to_targets(after)
    print("if a gate fails, traffic goes back in one patch:")
    show_plan(ctx, before, start)
