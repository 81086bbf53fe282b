"""``deploy``: a new revision at 0 % tagged green beside the serving one, tagged blue."""

from knative.errors import RolloutError
from knative.plan import GREEN, Traffic, for_deploy
from knative.steps import Context, apply, show_plan, traffic_of, wait_until_routed
from knative.template import model_path, new_template, revision_name


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
        live = wait_until_routed(ctx)
    except RolloutError as exc:
        raise RolloutError(f"{exc}; {name} has 0 %, traffic is as it was") from None
    urls = [t.get("url") for t in live["status"].get("traffic", []) if t.get("tag") == GREEN]
    print(f"{name} serves 0 % and answers at its tag URL: {urls[0] if urls else '(none yet)'}")
    return 0
