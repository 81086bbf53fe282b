"""The gated commands: ``shift`` raises the candidate's percent step by step, ``promote`` in one.

The probes run before each step, the quality gate once before the first, and the live
gate (``--prometheus-url``) after each step has carried traffic for ``--interval`` (the gates:
``knative/gates/``). A failed gate, or a route that does not become ready, puts back the split
found when the command started, in one patch (``restore.py``). Every run is recorded
(``knative/record.py``).
"""

from collections.abc import Callable

from knative.commands.restore import back_to_start
from knative.commands.steps import (
    Context,
    apply,
    require_ready_revision,
    show_plan,
    wait_until_routed,
)
from knative.errors import RolloutError, WriteFailed
from knative.gates.runner import Gates
from knative.gates.settings import GateSettings
from knative.record import Report, recorded
from knative.traffic.plan import BLUE, GREEN, Traffic, shifted, tagged, to_targets, traffic_of


def promote(ctx: Context, settings: GateSettings) -> int:
    """The revision tagged green to 100 % after its gates; the one tagged blue stays at 0 %."""
    current = traffic_of(ctx.service.get())
    candidate = tagged(current, GREEN)
    tagged(current, BLUE)  # rollback needs it, so promote refuses to run without it
    return shift(ctx, candidate, [100], settings, "promote")


def shift(
    ctx: Context, candidate: str, steps: list[int], settings: GateSettings, command: str = "shift"
) -> int:
    """Move ``candidate`` through ``steps`` percents, gating each step; resume where it stands."""
    service = ctx.service.get()
    start = traffic_of(service)
    require_ready_revision(ctx, candidate)
    todo = [step for step in steps if step > start.percent(candidate)]
    if not todo:
        print(f"nothing to do: {candidate} already has {start.percent(candidate)} %")
        return 0
    names = (candidate, incumbent_of(start, candidate))
    gates = Gates(ctx.clock, settings, service, names, ctx.service.calls.timeout)
    print(
        f"shift {candidate} from {start.percent(candidate)} % through "
        f"{', '.join(map(str, todo))} %, against {gates.incumbent}"
    )
    print("\n".join(gates.describe()))
    if ctx.dry_run:
        _show_steps(ctx, service["spec"].get("traffic"), start, candidate, todo)
        return 0
    with recorded(ctx.service, command, names, start, settings.report_path(command)) as report:
        _gated_steps(ctx, gates, report, start, todo)
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


def _gated_steps(
    ctx: Context, gates: Gates, report: Report, start: Traffic, todo: list[int]
) -> None:
    gates.prepare()
    interval = gates.settings.interval
    for number, percent in enumerate(todo, 1):
        if number > 1 and not gates.live_on:
            print(f"waiting {interval:g} s before the next step")
            ctx.clock.sleep(interval)
        probes = report.gate_ran(gates.probes(number, len(todo), percent))
        if not probes.passed:
            reason = f"gate failed before step {number}: {probes.failures()}"
            raise back_to_start(ctx, start, reason, number > 1)
        if number == 1:  # after the probes: they warm the candidate up
            quality = report.gate_ran(gates.quality())
            if not quality.passed:
                reason = f"quality gate failed before step 1: {quality.failures()}"
                raise back_to_start(ctx, start, reason, False)
        try:
            apply(ctx, _step(gates.candidate, percent))
        except WriteFailed as exc:
            raise RolloutError(f"{exc}; run shift again to go on from there, or rollback") from None
        try:
            live = traffic_of(wait_until_routed(ctx))
        except RolloutError as exc:
            raise back_to_start(ctx, start, f"step {number} did not take: {exc}", True) from None
        report.step_applied(number, percent, live.percents)
        print(f"step {number}/{len(todo)} done: {live.describe()}")
        if gates.live_on:
            _live_gate(ctx, gates, report, start, (number, percent))


def _live_gate(
    ctx: Context, gates: Gates, report: Report, start: Traffic, step: tuple[int, int]
) -> None:
    (number, percent), after = step, f"after step {step[0]} ({step[1]} %)"
    interval = gates.settings.interval
    print(f"live gate: judging {gates.candidate}'s {percent} % of the traffic in {interval:g} s")
    try:
        run = report.gate_ran(gates.live(number))
    except RolloutError as exc:  # no verdict (Prometheus failed): traffic back, then exit 2
        reason = f"live gate {after} could not judge: {exc}"
        raise RolloutError(str(back_to_start(ctx, start, reason, True))) from None
    if not run.passed:
        raise back_to_start(ctx, start, f"live gate failed {after}: {run.failures()}", True)


def _step(candidate: str, percent: int) -> Callable[[dict], Traffic]:
    return lambda fresh: shifted(traffic_of(fresh), candidate, percent)


def _show_steps(
    ctx: Context, before: list[dict] | None, start: Traffic, candidate: str, todo: list[int]
) -> None:
    for number, percent in enumerate(todo, 1):
        after = shifted(start, candidate, percent)
        print(f"step {number}/{len(todo)}, after a passing gate:")
        show_plan(ctx, before, after)
        before = to_targets(after)
    print("if a gate fails, traffic goes back in one patch:")
    show_plan(ctx, before, start)
