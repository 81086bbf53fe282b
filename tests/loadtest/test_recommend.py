"""The recommender: settings and their cost from a capacity curve, through the KPA model."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from loadtest.recommend import (
    SLO_HEADROOM,
    Node,
    UsageError,
    annotations,
    candidates,
    cpu,
    current_settings,
    gib,
    kn_command,
    kustomize_patch,
    load_node,
    main,
    recommend,
)
from loadtest.simulate import Capacity, Settings
from tests.release.manifests.knative_manifests import cluster_limits
from tests.release.manifests.knative_rules.autoscaling import autoscaling_errors

FIXTURE = Path(__file__).parent / "capacity-fixture.json"
REPO = Path(__file__).resolve().parents[2]
PRICES = REPO / "loadtest" / "node-prices.json"


def test_quantities():
    assert cpu("1") == 1 and cpu("250m") == 0.25
    assert gib("512Mi") == 0.5 and gib("2Gi") == 2


def test_a_node_holds_what_fits_beside_its_daemons():
    node = Node("m6i.xlarge", 4, 16, 0.192, "test")
    assert node.pods(1.025, 0.5, 0.2) == 3  # cluster/karpenter.yaml: 4 vCPU hold 3 pods
    assert node.pods(0.25, 8, 0.2) == 2  # memory binds first


def test_prices_are_dated_and_cited():
    data = json.loads(PRICES.read_text())
    assert data["read"] and data["source"].startswith("https://aws.amazon.com/")
    node = load_node(PRICES, None, None)
    assert (node.name, node.usd_per_hour) == ("m6i.xlarge", 0.192)
    assert "read " + data["read"] in node.source
    assert load_node(PRICES, "m7g.xlarge", 0.5).usd_per_hour == 0.5  # overridden
    with pytest.raises(UsageError, match="'m9.huge' is not in node-prices.json"):
        load_node(PRICES, "m9.huge", None)


def test_current_settings_read_the_annotations(tmp_path):
    service = yaml.safe_load((REPO / "knative" / "base" / "service.yaml").read_text())
    notes = service["spec"]["template"]["metadata"]["annotations"]
    notes.update({"autoscaling.knative.dev/target": "16",
                  "autoscaling.knative.dev/target-utilization-percentage": "60",
                  "autoscaling.knative.dev/scale-down-delay": "1m30s",
                  "autoscaling.knative.dev/scale-to-zero-pod-retention-period": "10m"})  # fmt: skip
    service["spec"]["template"]["spec"]["containerConcurrency"] = 64
    path = tmp_path / "service.yaml"
    path.write_text(yaml.safe_dump(service))
    s = current_settings(path)
    assert (s.container_concurrency, s.target, s.utilization) == (64, 16, 0.6)
    assert (s.scale_down_delay_s, s.retention_s) == (90, 600)


def test_the_patch_and_the_kn_flags_say_the_same_and_knative_accepts_them():
    s = Settings(64, 16, 0.7, min_scale=1, max_scale=6, initial_scale=1,
                 scale_down_delay_s=60, retention_s=0)  # fmt: skip
    patch = yaml.safe_load(kustomize_patch(s))
    notes = patch["spec"]["template"]["metadata"]["annotations"]
    assert notes == annotations(s)
    assert patch["spec"]["template"]["spec"]["containerConcurrency"] == 64
    assert autoscaling_errors(notes, cluster_limits()) == []  # Knative's webhook, our cluster
    flags = kn_command(s)
    for flag in ["--concurrency-limit 64", "--scale-target 16", "--scale-utilization 70",
                 "--scale-min 1", "--scale-max 6", "--scale-init 1",
                 "autoscaling.knative.dev/scale-down-delay=1m",
                 "autoscaling.knative.dev/scale-to-zero-pod-retention-period=0s"]:  # fmt: skip
        assert flag in flags


@pytest.fixture(scope="module")
def fixture_recommendation():
    capacity = Capacity.load(FIXTURE)
    return recommend(capacity, 8000, 500, 0.83, 0.064, 12, current=Settings(20, 4, 0.7, 0, 8))


def test_the_recommendation_meets_the_slo_and_is_the_cheapest_shown(fixture_recommendation):
    best = fixture_recommendation.best
    assert best.p99_ms <= SLO_HEADROOM * 500
    assert fixture_recommendation.compared[0] == ("recommended", best)
    for _, other in fixture_recommendation.compared[1:]:
        if other.meets(500):
            assert best.usd_per_1000 <= other.usd_per_1000 * 1.01
    assert fixture_recommendation.compared[-1][0] == "service.yaml today"


def test_cost_is_pod_seconds_at_the_pod_price(fixture_recommendation):
    best = fixture_recommendation.best
    served = sum(run.served for run in best.runs.values())
    assert best.usd_per_1000 == pytest.approx(best.pod_seconds / 3600 * 0.064 / served * 1000)
    assert best.settings.max_scale <= 12


def test_an_slo_the_curve_cannot_meet_is_refused():
    with pytest.raises(UsageError, match="no candidate meets p99 <= 1 ms"):
        recommend(Capacity.load(FIXTURE), 8000, 1, 0.83, 0.064, 12)


def run_recommend(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "loadtest.recommend", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_command_writes_table_png_patch_and_kn(tmp_path):
    done = run_recommend("--peak-rps", "8000", "--capacity", str(FIXTURE), "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    table = (tmp_path / "recommend.md").read_text()
    assert "| recommended |" in table and "service.yaml today" in table
    assert (tmp_path / "recommend.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    patch = yaml.safe_load((tmp_path / "autoscaling-patch.yaml").read_text())
    kn = (tmp_path / "kn.txt").read_text()
    notes = patch["spec"]["template"]["metadata"]["annotations"]
    assert f"--scale-target {notes['autoscaling.knative.dev/target']} " in kn
    assert f"--concurrency-limit {patch['spec']['template']['spec']['containerConcurrency']} " in kn


@pytest.mark.parametrize(
    "args, message",
    [
        (["--peak-rps", "0"], "--peak-rps must be > 0"),
        (["--peak-rps", "10", "--capacity", "nowhere.json"], "no such file"),
        (["--peak-rps", "10", "--node", "m9.huge"], "'m9.huge' is not in node-prices.json"),
        (["--peak-rps", "10", "--slo-p99-ms", "-5"], "--slo-p99-ms must be > 0"),
    ],
)
def test_command_refuses_bad_input(args, message):
    done = run_recommend(*args, "--capacity", str(FIXTURE)) if "--capacity" not in args \
        else run_recommend(*args)  # fmt: skip
    assert done.returncode == 2 and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_service_yaml_takes_the_recommendation(tmp_path):
    """knative/base/service.yaml holds what `make recommend` says for the committed curve, and
    its comments give the recommendation's own figures."""
    assert main(["--out", str(tmp_path)]) == 0
    want = yaml.safe_load((tmp_path / "autoscaling-patch.yaml").read_text())["spec"]["template"]
    text = (REPO / "knative" / "base" / "service.yaml").read_text()
    have = yaml.safe_load(text)["spec"]["template"]
    assert want["metadata"]["annotations"].items() <= have["metadata"]["annotations"].items()
    assert want["spec"]["containerConcurrency"] == have["spec"]["containerConcurrency"]
    row = next(line for line in (tmp_path / "recommend.md").read_text().splitlines()
               if line.startswith("| recommended |")).split(" | ")  # fmt: skip
    pod_seconds, usd = row[4], row[6]
    assert f"{pod_seconds} pod-seconds" in text and f"${usd} per 1,000 predictions" in text


def test_container_concurrency_stays_within_what_knative_accepts():
    """A curve that holds the SLO past Knative's container-concurrency-max-limit (1000 by
    default) still gives a containerConcurrency the webhook takes."""
    roomy = dataclasses.replace(Capacity.load(FIXTURE), max_concurrency_within_slo=4096)
    limit = cluster_limits().container_concurrency_max_limit
    assert {s.container_concurrency for s in candidates(roomy, 8000, 12)} == {limit}


def test_slow_cold_starts_hold_the_peaks_pods():
    """With a new node for every pod (75 s), no setting scales out in time: the recommendation
    holds the pods the peak needs instead of scaling from zero."""
    result = recommend(Capacity.load(FIXTURE), 8000, 500, 75.0, 0.064, 12)
    assert result.best.settings.min_scale >= 2
    assert result.best.settings.initial_scale == result.best.settings.min_scale
    assert result.best.p99_ms <= SLO_HEADROOM * 500
