"""``rollback``: all traffic back to the revision tagged blue, in one patch, without a gate."""

from knative.commands.steps import (
    Context,
    apply,
    require_ready_revision,
    show_plan,
    wait_until_routed,
)
from knative.errors import RolloutError
from knative.traffic.plan import BLUE, for_rollback, traffic_of


def rollback(ctx: Context) -> int:
    """All traffic back to the revision tagged blue, in one patch, without a gate."""
    service = ctx.service.get()
    current = traffic_of(service)
    after = for_rollback(current)
    if after.percents == current.percents:
        print(f"nothing to do: {after.tags[BLUE]} (blue) already serves 100 %")
        return 0
    require_ready_revision(ctx, after.tags[BLUE])
    print(f"rollback: all traffic to {after.tags[BLUE]} (tagged {BLUE})")
    if ctx.dry_run:
        show_plan(ctx, service["spec"].get("traffic"), after)
        return 0
    apply(ctx, lambda fresh: for_rollback(traffic_of(fresh)))
    try:
        wait_until_routed(ctx)
    except RolloutError as exc:
        raise RolloutError(f"{exc}; the rollback is applied but not live yet") from None
    print(f"rolled back: {after.describe()}")
    return 0
