"""The steps the commands share: check a revision, show a plan, dry-run or apply one patch, wait
until it is routed; and the ``Context`` they run in."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from knative.errors import RolloutError, WriteFailed
from knative.kube.service import KnativeService
from knative.kube.waiting import is_ready, not_ready_reason
from knative.lease.guard import Guard
from knative.traffic.kn import kn_update
from knative.traffic.plan import Traffic, to_targets, traffic_of


@dataclass(frozen=True)
class Context:
    """The Service, the clock waits run on (``sleep``, ``monotonic``), the run's options, and
    the ``Guard`` every write passes (None in a dry run, which writes nothing)."""

    service: KnativeService
    clock: Any
    timeout: float = 300.0
    dry_run: bool = False
    guard: Guard | None = None


def read_now(service: KnativeService) -> tuple[dict | None, str]:
    """The Service read once more and its traffic in words, or why not (Ctrl-C skips it)."""
    try:
        found = service.get()
    except (KeyboardInterrupt, RolloutError) as exc:
        return None, f"unknown: it could not be read back ({str(exc) or 'interrupted'})"
    return found, f"{traffic_of(found).describe()} (read back)"


def require_ready_revision(ctx: Context, name: str) -> dict:
    """The Ready revision ``name`` of this service, or a clear error before anything is written."""
    revision = ctx.service.revision(name)
    where = f"namespace {ctx.service.namespace}"
    if revision is None:
        raise RolloutError(f"revision {name} not found in {where}; `status` lists the revisions")
    owner = revision["metadata"].get("labels", {}).get("serving.knative.dev/service")
    if owner != ctx.service.name:
        raise RolloutError(f"revision {name} belongs to service {owner}, not {ctx.service.name}")
    if not is_ready(revision):
        raise RolloutError(f"revision {name} is not ready: {not_ready_reason(revision)}")
    return revision


def show_plan(
    ctx: Context, before: list[dict] | None, after: Traffic, extra: tuple[str, ...] = ()
) -> None:
    """The split and tags ``after`` means, and the kn command that would do the same."""
    tags = ", ".join(f"{tag} -> {rev}" for tag, rev in after.tags.items()) or "none"
    print(f"  traffic: {after.describe()}; tags: {tags}")
    print(f"  kn: {kn_update(ctx.service.name, ctx.service.namespace, before, after, extra)}")


Template = Callable[[dict], dict] | None  # the new revision's template, from a fresh read


def _change(plan: Callable[[dict], Traffic], template: Template) -> Callable[[dict], dict]:
    """What to send as ``spec``: the whole traffic list (and template), planned on a fresh read."""

    def change(service: dict) -> dict:
        spec = {"traffic": to_targets(plan(service))}
        return spec | ({"template": template(service)} if template else {})

    return change


def dry_run(ctx: Context, plan: Callable[[dict], Traffic], template: Template = None) -> dict:
    """What ``apply`` would write, as the API server and Knative's webhook judge it (server-side
    dry run, nothing stored); a rejection raises with their message."""
    return ctx.service.dry_run(_change(plan, template))


def apply(ctx: Context, plan: Callable[[dict], Traffic], template: Template = None) -> dict:
    """One patch of the whole traffic list (and template), planned on the freshly read Service
    once the guard has passed it; a failed write says what the API holds, read back."""
    try:
        written = ctx.service.update(_change(plan, template), ctx.guard.check)
    except WriteFailed as exc:
        if exc.found is None:
            raise WriteFailed(f"{exc}; what the API holds is unknown: see `status`", None) from None
        held = traffic_of(exc.found).describe()
        raise WriteFailed(f"{exc}; the API holds {held} (read back)", exc.found) from None
    ctx.guard.wrote(written)
    return written


def wait_until_routed(ctx: Context) -> dict:
    """Wait until the Service is Ready for its latest generation: the new split is live."""
    what = f"service {ctx.service.name}"
    return ctx.service.wait(ctx.service.get, what, ctx.timeout, ctx.clock)
