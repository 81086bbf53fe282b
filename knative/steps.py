"""The steps every command shares: read the traffic, check a revision, show, apply, wait."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from knative.api import KnativeService, is_ready, not_ready_reason
from knative.errors import RolloutError, WriteFailed
from knative.kn_command import kn_update
from knative.plan import Traffic, parse_traffic, to_targets


@dataclass(frozen=True)
class Context:
    """The Service, the clock waits run on (``sleep``, ``monotonic``), the run's options, and
    the ``guard.Guard`` every write passes (None in a dry run, which writes nothing)."""

    service: KnativeService
    clock: Any
    timeout: float = 300.0
    dry_run: bool = False
    guard: Any = None


def traffic_of(service: dict) -> Traffic:
    """The split a Service asks for (``spec.traffic``), ``latestRevision`` resolved."""
    status = service.get("status") or {}
    return parse_traffic(service["spec"].get("traffic"), status.get("latestReadyRevisionName"))


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


def show_plan(ctx: Context, before: list[dict] | None, after: Traffic, extra=()) -> None:
    """The split and tags ``after`` means, and the kn command that would do the same."""
    tags = ", ".join(f"{tag} -> {rev}" for tag, rev in after.tags.items()) or "none"
    print(f"  traffic: {after.describe()}; tags: {tags}")
    print(f"  kn: {kn_update(ctx.service.name, ctx.service.namespace, before, after, extra)}")


def _change(plan: Callable[[dict], Traffic], template=None) -> Callable[[dict], dict]:
    """What to send as ``spec``: the whole traffic list (and template), planned on a fresh read."""

    def change(service: dict) -> dict:
        spec = {"traffic": to_targets(plan(service))}
        return spec | ({"template": template(service)} if template else {})

    return change


def judge(ctx: Context, plan: Callable[[dict], Traffic], template=None) -> dict:
    """What ``apply`` would write, as the API server and Knative's webhook judge it (server-side
    dry run, nothing stored); a rejection raises with their message."""
    return ctx.service.judge(_change(plan, template))


def apply(ctx: Context, plan: Callable[[dict], Traffic], template=None) -> dict:
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
