"""What the rollout tests share: names, the deployed split, the client's timeout, and
``python -m knative.rollout`` run in-process against a fake Knative API, on a fake clock."""

from pathlib import Path

from knative.rollout import main
from knative.traffic.plan import Traffic, parse_traffic, to_targets
from tests.rollout.fake_knative_api import FakeKnative
from tests.support.fake_clock import FakeClock

V1, V2 = "house-price-v1", "house-price-v2"
TAGS = {"blue": V1, "green": V2}
DEPLOYED = to_targets(Traffic({V1: 100, V2: 0}, TAGS))  # v2 deployed at 0 %, tagged green
REQUEST_TIMEOUT = 0.5  # seconds: what a "slow" answer of the fake API outlasts
NEW_IMAGE = "registry.example.com/hp:bbbbbbb"
NEW = "house-price-v2-bbbbbbb"  # the revision DEPLOY makes
DEPLOY = ("deploy", "--image", NEW_IMAGE, "--model-version", "2", "--release", "bbbbbbb")


def percents(fake: FakeKnative) -> list[int]:
    """The candidate's (house-price-v2) percent after each change the fake accepted."""
    return [parse_traffic(traffic, None).percent(V2) for traffic in fake.traffic_history]


def pod_is_always_schedulable(fake: FakeKnative, setting: str) -> None:
    """Set config-deployment's ``pod-is-always-schedulable`` ("true" in ``cluster/``, "false"
    Knative's default), which the fake's Knative reads as the real one does."""
    fake.cluster.configmaps["config-deployment"]["data"]["pod-is-always-schedulable"] = setting


def deployed_traffic(candidate: str) -> list[dict]:
    """``spec.traffic`` after ``deploy`` of ``candidate``: at 0 %, tagged green."""
    return to_targets(Traffic({V1: 100, candidate: 0}, {"blue": V1, "green": candidate}))


def cli(fake: FakeKnative, tmp_path: Path, clock=None):
    """Run the command line against ``fake``; ``run.clock`` is the clock its waits use (a fake
    one unless given)."""
    kubeconfig = fake.kubeconfig(tmp_path / "kubeconfig")
    clock = clock or FakeClock()

    def run(*args: str) -> int:
        return main(["--kubeconfig", kubeconfig, *args], clock=clock)

    run.clock = clock
    return run
