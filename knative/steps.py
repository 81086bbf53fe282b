"""The steps every command shares: read the traffic, check a revision, show, apply, wait."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from knative.api import KnativeService, is_ready, not_ready_reason
from knative.errors import RolloutError
from knative.kn_command import kn_update
from knative.plan import Traffic, parse_traffic, to_targets


@dataclass(frozen=True)
class Context:
    """The Service, the clock waits run on (``sleep``, ``monotonic``), and the run's options."""

    service: KnativeService
    clock: Any
    timeout: float = 300.0
    dry_run: bool = False


def traffic_of(service: dict) -> Traffic:
    """The split a Service asks for (``spec.traffic``), ``latestRevision`` resolved."""
    status = service.get("status") or {}
    return parse_traffic(service["spec"].get("traffic"), status.get("latestReadyRevisionName"))


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


def apply(ctx: Context, plan: Callable[[dict], Traffic], template=None) -> dict:
    """One patch of the whole traffic list (and template), planned on the freshly read Service."""

    def change(service: dict) -> dict:
        spec = {"traffic": to_targets(plan(service))}
        return spec | ({"template": template(service)} if template else {})

    return ctx.service.update(change)


def wait_until_routed(ctx: Context) -> dict:
    """Wait until the Service is Ready for its latest generation: the new split is live."""
    what = f"service {ctx.service.name}"
    return ctx.service.wait(ctx.service.get, what, ctx.timeout, ctx.clock)
