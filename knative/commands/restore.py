"""Back to the split a gated command started from, after a failed gate or a step that failed.

The restore is one guarded patch: it is never written over someone else's change. Ctrl-C (or
SIGTERM) during it does not leave traffic on a failing candidate silently: the restore is tried
once more, and if that is interrupted or fails too, stderr says loudly what the traffic is now
(read back) and the command that puts it back (exit code 130, 143 for SIGTERM).
"""

import sys

from knative.commands.steps import Context, apply, read_now
from knative.errors import GateFailed, Interrupted, RolloutError, Superseded
from knative.traffic.kn import kn_update
from knative.traffic.plan import Traffic, traffic_of


def back_to_start(ctx: Context, start: Traffic, reason: str, changed: bool) -> GateFailed:
    """Put back ``start`` if this command ``changed`` the traffic; the ``GateFailed`` (exit code
    1) to raise then: ``raise back_to_start(...)``. A restore that fails raises its own error."""
    if changed:
        try:
            _put_back(ctx, start)
        except KeyboardInterrupt:
            print(
                f"{reason}; interrupted while putting traffic back: trying once more "
                "(Ctrl-C again to give up)",
                file=sys.stderr,
            )
            try:
                _put_back(ctx, start)
            except Superseded as exc:
                raise Superseded(f"{reason}; {exc}") from None
            except (KeyboardInterrupt, RolloutError) as exc:
                raise Interrupted(_stranded(ctx, start, reason), exc) from None
        except Superseded as exc:
            raise Superseded(f"{reason}; {exc}") from None
        except RolloutError as exc:
            by_hand = kn_update(ctx.service.name, ctx.service.namespace, None, start)
            raise RolloutError(
                f"{reason}; putting traffic back failed too ({exc}); by hand: {by_hand}"
            ) from None
    return GateFailed(
        f"{reason}; traffic is {'back' if changed else 'still'} at {start.describe()}"
    )


def _put_back(ctx: Context, start: Traffic) -> None:
    if traffic_of(ctx.service.get()) != start:  # an interrupted try may have landed already
        apply(ctx, lambda _: start)


def _stranded(ctx: Context, start: Traffic, reason: str) -> str:
    """The loud message: where traffic is (read back, if the API answers) and how to restore."""
    found, now = read_now(ctx.service)
    before = found["spec"].get("traffic") if found else None
    name, namespace = ctx.service.name, ctx.service.namespace
    return "\n".join(
        [
            f"INTERRUPTED WHILE PUTTING TRAFFIC BACK ({reason}).",
            f"Traffic is now: {now}.",
            f"To put back {start.describe()}, as it was before this command:",
            f"  {kn_update(name, namespace, before, start)}",
            "or send all traffic to the revision tagged blue:",
            f"  python -m knative.rollout -n {namespace} -s {name} rollback",
        ]
    )
