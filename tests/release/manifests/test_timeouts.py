"""The request timeouts let a revision scale from zero on a full cluster, still cut off a stuck
request, keep to Knative's limits, and whoever waits for a cold start waits longer than Knative.

Knative 1.23's webhook holds timeoutSeconds to max-revision-timeout-seconds (the rule copy in
knative_rules/containers.py, run on every phase by test_rules.py); it does not check
responseStartTimeoutSeconds or idleTimeoutSeconds at all, so their relations are checked here.
"""

import re

import pytest

from knative.gates.predictor import WARM_UP_TIMEOUT
from tests.release.files import SMOKE_TEST
from tests.release.manifests.knative_manifests import (
    CLUSTER,
    PHASES,
    phase_service,
    reference_defaults,
)

# A cold start on a full cluster, as knative/base/service.yaml reckons it.
NODE_LAUNCH_S = 60  # Karpenter: a new node, Ready
IMAGE_PULL_S = 15  # ~380 MB from ECR in the same region
APP_START_S = 1  # the server starts and verifies its model (measured < 1 s)
COLD_START_S = NODE_LAUNCH_S + IMAGE_PULL_S + APP_START_S


@pytest.fixture(scope="module", params=PHASES)
def spec(request):
    return phase_service(request.param)["spec"]["template"]["spec"]


def test_the_first_byte_may_wait_for_a_cold_start_but_not_forever(spec):
    assert COLD_START_S < spec["responseStartTimeoutSeconds"] <= 2 * COLD_START_S


def test_the_whole_request_gets_a_little_more_and_stays_within_the_clusters_maximum(spec):
    maximum = int(reference_defaults("config-defaults")["max-revision-timeout-seconds"])
    assert spec["responseStartTimeoutSeconds"] < spec["timeoutSeconds"] <= maximum
    assert "idleTimeoutSeconds" not in spec  # before the first byte it would repeat the above


def test_whoever_waits_for_a_cold_start_waits_longer_than_knative():
    """So a slow cold start ends as Knative's 504 or an answer, not as the waiter's timeout."""
    spec = phase_service(PHASES[0])["spec"]["template"]["spec"]
    (smoke_test_wait,) = map(int, re.findall(r"--max-time (\d+)", SMOKE_TEST.read_text()))
    (load_balancer_idle,) = map(
        int, re.findall(r"LB_IDLE_TIMEOUT_SECONDS=(\d+)", (CLUSTER / "lib.sh").read_text())
    )
    assert spec["responseStartTimeoutSeconds"] < WARM_UP_TIMEOUT  # the rollout gate's warm-up
    assert smoke_test_wait > spec["responseStartTimeoutSeconds"]
    assert load_balancer_idle > spec["timeoutSeconds"]  # in front of Kourier
