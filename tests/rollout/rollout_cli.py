"""The rollout command line run in-process against a fake Knative API, and the Service as
``deploy`` leaves it: house-price-v1 at 100 % tagged blue, the candidate at 0 % tagged green."""

from pathlib import Path

from knative.plan import Traffic, to_targets
from knative.rollout import main
from tests.rollout.fake_knative_api import FakeKnative
from tests.support.fake_clock import FakeClock

V1, V2 = "house-price-v1", "house-price-v2"
TAGS = {"blue": V1, "green": V2}
DEPLOYED = to_targets(Traffic({V1: 100, V2: 0}, TAGS))


def deployed_traffic(candidate: str) -> list[dict]:
    """``spec.traffic`` after ``deploy`` of ``candidate``."""
    return to_targets(Traffic({V1: 100, candidate: 0}, {"blue": V1, "green": candidate}))


def cli(fake: FakeKnative, tmp_path: Path, clock=None):
    """Run the command line against ``fake``; ``run.clock`` is the clock its waits use."""
    kubeconfig = fake.kubeconfig(tmp_path / "kubeconfig")
    clock = clock or FakeClock()

    def run(*args: str) -> int:
        return main(["--kubeconfig", kubeconfig, *args], clock=clock)

    run.clock = clock
    return run
