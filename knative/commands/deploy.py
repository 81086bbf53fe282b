"""``deploy``: a new revision at 0 % tagged green beside the serving one, tagged blue.

The cluster judges the change first: the patch goes once as a server-side dry run, so the API
server and Knative's admission webhook can reject it before anything is written.
"""

from knative.commands.steps import Context, apply, dry_run, show_plan, wait_until_routed
from knative.commands.warm import WarmStart, initial_scale
from knative.errors import RolloutError
from knative.traffic.plan import BLUE, GREEN, Traffic, for_deploy, tag_url, traffic_of
from knative.traffic.template import model_path, new_template, revision_name, serves


def deploy(
    ctx: Context, image: str, model_version: str, release: str, warm: WarmStart | None = None
) -> int:
    """New revision at 0 % tagged green, the serving one kept tagged blue, with ``warm``
    its initial-scale sized for blue's traffic; wait, print its URL."""
    name = revision_name(ctx.service.name, model_version, release)
    model = model_path(model_version)
    service = ctx.service.get()
    existing = ctx.service.revision(name)
    if existing is not None:
        return _redeploy(ctx, service, existing, image, model)

    def plan(fresh: dict) -> Traffic:
        return for_deploy(traffic_of(fresh), name)

    after = plan(service)
    new_template(service, name, image, model)  # a bad image stops here, before anything is written
    scale = initial_scale(service["spec"]["template"], after.tags[BLUE], warm) if warm else None

    def template(fresh: dict) -> dict:
        return new_template(fresh, name, image, model, scale)

    print(f"deploy {name} (image {image}, MODEL_PATH {model}) at 0 % tagged {GREEN}")
    if ctx.dry_run:
        kn_args = ["--image", image, "--revision-name", name, "--env", f"MODEL_PATH={model}"]
        kn_args += ["--scale-init", str(scale)] if scale else []
        show_plan(ctx, service["spec"].get("traffic"), after, kn_args)
        return 0
    try:
        dry_run(ctx, plan, template)
    except RolloutError as exc:
        raise RolloutError(f"{exc}; nothing was changed, traffic is as it was") from None
    print("the API server and Knative's admission webhook accept it (server-side dry run)")
    apply(ctx, plan, template)
    return _wait_and_report(ctx, name, f"{name} has 0 %, traffic is as it was")


def _redeploy(ctx: Context, service: dict, existing: dict, image: str, model: str) -> int:
    """The release is deployed already: nothing to write if it is the same, else refuse."""
    name = existing["metadata"]["name"]
    if not serves(existing, image, model):
        raise RolloutError(
            f"revision {name} already exists and runs another image or model; "
            "a release with a new image needs a new --release"
        )
    latest = service["spec"]["template"].get("metadata", {}).get("name")
    if latest != name:
        raise RolloutError(
            f"revision {name} is an earlier deploy and the Service has moved on to {latest}; "
            f"to send traffic to it, run `shift --to {name}` or `rollback`"
        )
    print(f"nothing to deploy: revision {name} already runs {image} with {model}; no new revision")
    if ctx.dry_run:
        return 0
    return _wait_and_report(ctx, name, "traffic is as it was")


def _wait_and_report(ctx: Context, name: str, where_traffic_is: str) -> int:
    """Wait until revision ``name`` and the Service are Ready; print its share and tag URL."""
    try:
        what = f"revision {name}"
        ctx.service.wait(lambda: ctx.service.revision(name), what, ctx.timeout, ctx.clock)
        print(f"revision {name} is ready")
        live = wait_until_routed(ctx)
    except RolloutError as exc:
        pods = f"-n {ctx.service.namespace} -l serving.knative.dev/revision={name}"
        raise RolloutError(
            f"{exc}; {where_traffic_is}; its pods say more: kubectl describe pods {pods}"
        ) from None
    percent, url = traffic_of(live).percent(name), tag_url(live, name)
    print(f"{name} serves {percent} % and answers at its tag URL: {url or '(none)'}")
    return 0
