"""The steps every command shares, and the ungated commands ``deploy`` and ``rollback``."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from knative.api import KnativeService, is_ready, not_ready_reason
from knative.errors import RolloutError
from knative.kn import kn_update
from knative.plan import BLUE, GREEN, Traffic, for_deploy, for_rollback, parse_traffic, to_targets
from knative.template import model_path, new_template, revision_name


@dataclass(frozen=True)
class Context:
    """The Service, the clock waits run on (``sleep``, ``monotonic``), and the run's options."""

    service: KnativeService
    clock: Any
    timeout: float = 300.0
    dry_run: bool = False


def traffic_of(service: dict) -> Traffic:
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


def routed(ctx: Context) -> dict:
    """Wait until the Service is Ready for its latest generation: the new split is live."""
    what = f"service {ctx.service.name}"
    return ctx.service.wait(ctx.service.get, what, ctx.timeout, ctx.clock)


def deploy(ctx: Context, image: str, model_version: str) -> int:
    """New revision at 0 % tagged green, the serving one kept tagged blue; wait, print its URL."""
    name = revision_name(ctx.service.name, model_version)
    model = model_path(model_version)
    service = ctx.service.get()
    current_name = service["spec"]["template"].get("metadata", {}).get("name")
    if current_name != name and ctx.service.revision(name) is not None:
        raise RolloutError(f"revision {name} already exists; deploy a new model version instead")

    def plan(fresh: dict) -> Traffic:
        return for_deploy(traffic_of(fresh), name)

    def template(fresh: dict) -> dict:
        return new_template(fresh, name, image, model)

    after = plan(service)
    template(service)  # a bad image stops here, before anything is written
    print(f"deploy {name} (image {image}, MODEL_PATH {model}) at 0 % tagged {GREEN}")
    if ctx.dry_run:
        kn_args = ["--image", image, "--revision-name", name, "--env", f"MODEL_PATH={model}"]
        show_plan(ctx, service["spec"].get("traffic"), after, kn_args)
        return 0
    apply(ctx, plan, template)
    try:
        what = f"revision {name}"
        ctx.service.wait(lambda: ctx.service.revision(name), what, ctx.timeout, ctx.clock)
        print(f"revision {name} is ready")
        live = routed(ctx)
    except RolloutError as exc:
        raise RolloutError(f"{exc}; {name} has 0 %, traffic is as it was") from None
    urls = [t.get("url") for t in live["status"].get("traffic", []) if t.get("tag") == GREEN]
    print(f"{name} serves 0 % and answers at its tag URL: {urls[0] if urls else '(none yet)'}")
    return 0


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
        routed(ctx)
    except RolloutError as exc:
        raise RolloutError(f"{exc}; the rollback is applied but not live yet") from None
    print(f"rolled back: {after.describe()}")
    return 0
