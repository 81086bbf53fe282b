"""All three gates end to end against real parts: real predictor processes play the revisions
(``K_REVISION``, their own models), a real Prometheus scrapes them every second, real traffic
follows the fake Knative API's split, and the rollout tool writes traffic through the fake API.

Intervals are 2 s, so a gated step takes about 3 s; every server and Prometheus are stopped by
the fixtures that started them.
"""

import json
import shutil
import time
from contextlib import contextmanager

import pytest

from knative.record import ANNOTATION
from knative.traffic.plan import parse_traffic
from loadtest.local_server import start_server, stop, wait_ready
from tests.rollout.fake_knative_api import FakeKnative
from tests.rollout.gates.split_load import SplitLoad
from tests.rollout.shared import V1, V2, cli, deployed_traffic
from tests.support.fake_clock import FakeClock
from tests.support.faulty_models import (
    constant_model,
    model_failing_on_unseen_inputs,
    model_pricing_unseen_inputs_higher,
)
from tests.support.prometheus_server import running_prometheus
from tests.support.repo import MODEL_DATA

CONSTANT, FAILING, PRICING = "house-price-v8", "house-price-v9", "house-price-v7"
INTERVAL = "2s"
FAST = ["--probe-requests", "10", "--interval", INTERVAL, "--min-requests", "20"]


@pytest.fixture(scope="module")
def model_data(tmp_path_factory):
    """The repository's cards and reference rows, and the two faulty models with theirs."""
    folder = tmp_path_factory.mktemp("model_data")
    for name in ("model-v1.json", "model-v2.json", "reference-rows.csv"):
        shutil.copy(MODEL_DATA / name, folder / name)
    constant_model(folder, "v8")
    model_failing_on_unseen_inputs(folder, "v9")
    model_pricing_unseen_inputs_higher(folder, "v7")
    return folder


@pytest.fixture(scope="module")
def stack(model_data, tmp_path_factory):
    """A real server per revision, each with its model, and a Prometheus scraping them, started
    side by side: ({revision: base URL}, Prometheus URL)."""
    models = {
        V1: MODEL_DATA / "model-v1.onnx",
        V2: MODEL_DATA / "model-v2.onnx",
        CONSTANT: model_data / "model-v8.onnx",
        FAILING: model_data / "model-v9.onnx",
        PRICING: model_data / "model-v7.onnx",
    }
    started = {rev: start_server(K_REVISION=rev, MODEL_PATH=str(m)) for rev, m in models.items()}
    urls = {revision: url for revision, (_, url) in started.items()}
    targets = [url.removeprefix("http://") for url in urls.values()]
    try:
        with running_prometheus(tmp_path_factory.mktemp("prometheus"), targets) as prometheus:
            for process, url in started.values():
                wait_ready(process, url)
            yield urls, prometheus
    finally:
        for process, _ in started.values():
            stop(process)


@pytest.fixture
def servers(stack):
    return stack[0]


@pytest.fixture
def rollout_of(stack, model_data, tmp_path):
    """For a candidate: the fake Service after its deploy, served for the block, and the command
    line with every gate, on the real clock (or another)."""

    servers, prometheus = stack

    @contextmanager
    def deployed(candidate: str, clock=time):
        traffic = deployed_traffic(candidate)
        with FakeKnative.started(revisions=(V1, candidate), traffic=traffic) as fake:
            fake.tag_urls |= {"blue": servers[V1], "green": servers[candidate]}
            run = cli(fake, tmp_path, clock=clock)
            gates = ["--model-data", str(model_data), "--prometheus-url", prometheus, *FAST]
            yield fake, lambda command, *args: run(command, *gates, *args)  # args win

    return deployed


def load(fake, servers, candidate, rows=1):
    """100 requests a second of ``rows`` rows each, split as the fake route says."""
    return SplitLoad(fake, {V1: servers[V1], candidate: servers[candidate]}, rate=100, rows=rows)


def percents(fake, candidate):
    return parse_traffic(fake.traffic(), None).percent(candidate)


def test_a_good_candidate_passes_every_gate_through_shift_and_promote(
    rollout_of, servers, capsys, tmp_path
):
    with rollout_of(V2) as (fake, rollout), load(fake, servers, V2) as traffic:
        assert rollout("shift", "--to", V2, "--steps", "50") == 0
        assert percents(fake, V2) == 50
        assert rollout("promote") == 0
    assert percents(fake, V2) == 100
    assert traffic.sent(V1) >= 20 and traffic.sent(V2) >= 20  # --min-requests
    out = capsys.readouterr().out
    assert "quality: RMSE 3.71 (card 3.71, house-price-v1 3.61" in out
    assert "live after step 1: error ratio 0.00 %" in out
    shift = json.loads((tmp_path / "reports" / "rollout-shift.json").read_text())
    assert [(g["gate"], g["passed"]) for g in shift["gates"]] == [
        ("probes", True),
        ("quality", True),
        ("live", True),
    ]
    live = shift["gates"][2]["checks"]
    assert [check["name"] for check in live] == [
        "traffic",
        "error ratio",
        "p99",
        "prediction shift",
    ]
    assert live[0]["numbers"][V2] >= 20 and live[2]["numbers"]["value"] < 500
    assert shift["steps"][0]["traffic"] == {V1: 50, V2: 50}
    assert json.loads(fake.annotation(ANNOTATION))["verdict"] == "passed"
    assert json.loads(fake.annotation(ANNOTATION))["command"] == "promote"


def test_a_candidate_that_answers_a_constant_fails_the_quality_gate(rollout_of, servers, capsys):
    with rollout_of(CONSTANT) as (fake, rollout):
        assert rollout("shift", "--to", CONSTANT) == 1
    assert fake.spec_patches() == []
    err = capsys.readouterr().err
    assert err.startswith("quality gate failed before step 1: RMSE 8.")
    assert "predictions vary: std 0.00 over 102 rows" in err
    assert "the card says it uses CHAS, RM, TAX, PTRATIO, B, LSTAT, yet moving them" in err
    assert f"traffic is still at {V1} 100 %" in err
    assert json.loads(fake.annotation(ANNOTATION))["verdict"] == "failed"


def test_errors_on_live_traffic_fail_the_live_gate_and_put_traffic_back(
    rollout_of, servers, capsys
):
    with rollout_of(FAILING) as (fake, rollout), load(fake, servers, FAILING) as traffic:
        assert rollout("shift", "--to", FAILING, "--steps", "50,100") == 1
    assert traffic.answers[FAILING, 500] > 0 and traffic.answers[V1, 500] == 0
    history = [parse_traffic(t, None).percent(FAILING) for t in fake.traffic_history]
    assert history in ([50, 0], [50, 100, 0])  # about 19 % of the rows fail: caught at 50 %, mostly
    err = capsys.readouterr().err
    assert err.startswith("live gate failed after step ") and " %): error ratio " in err
    assert f"traffic is back at {V1} 100 %" in err


# Without load, the gate's own requests are the candidate's only ones; --min-requests 1000 keeps
# them from counting even in the long windows a fake clock (whose waits take no time) makes.
NO_DATA = ["--steps", "50", "--min-requests", "1000"]


def test_too_little_traffic_is_no_pass_and_fails_when_told_to(rollout_of, capsys):
    with rollout_of(V2, FakeClock()) as (fake, rollout):
        assert rollout("shift", "--to", V2, *NO_DATA, "--on-no-data", "fail") == 1
    err = capsys.readouterr().err
    assert "(at least 1000 wanted for a verdict) FAILED: not enough data after 2 s" in err
    assert "(--on-no-data fail)" in err and f"traffic is back at {V1} 100 %" in err
    assert percents(fake, V2) == 0


def test_with_wait_the_gate_gives_up_after_the_no_data_timeout(rollout_of, capsys):
    clock = FakeClock()
    with rollout_of(V2, clock) as (fake, rollout):
        assert rollout("shift", "--to", V2, *NO_DATA, "--no-data-timeout", "7s") == 1
    assert clock.sleeps == [2, 2, 2, 2, 1]  # the interval, then 7 s more in intervals
    captured = capsys.readouterr()
    assert captured.out.count("FAILED: not enough data; waiting") == 4
    assert "FAILED: not enough data after 9 s (--on-no-data wait)" in captured.err
    assert percents(fake, V2) == 0


def test_with_wait_the_gate_waits_for_traffic_that_comes_late(rollout_of, servers, capsys):
    with rollout_of(V2) as (fake, rollout):
        late = SplitLoad(fake, {V1: servers[V1], V2: servers[V2]}, delay=2.5)  # after a window
        with late:
            assert rollout("shift", "--to", V2, "--steps", "50", "--no-data-timeout", "10s") == 0
    out = capsys.readouterr().out
    assert "FAILED: not enough data; waiting 2 s more" in out
    assert percents(fake, V2) == 50


# Enough predictions that sampling noise is small beside the shift between v1 and v2 (about 0.04
# on rows drawn across the features' ranges): 200 rows a request, over a 3 s window. Batches that
# big make p99s of tens of ms on a busy machine; latency is not what these tests judge.
SLOW_OK = ["--latency-tolerance", "100"]
MANY = ["--steps", "50", "--interval", "3s", *SLOW_OK]


def shift_check(report: dict) -> dict:
    [live] = [run for run in report["gates"] if run["gate"] == "live"]
    return next(check for check in live["checks"] if check["name"] == "prediction shift")


def test_v1_to_v2_passes_the_prediction_shift_at_the_default(rollout_of, servers, tmp_path):
    with rollout_of(V2) as (fake, rollout), load(fake, servers, V2, rows=200):
        assert rollout("shift", "--to", V2, *MANY) == 0
    check = shift_check(json.loads((tmp_path / "reports" / "rollout-shift.json").read_text()))
    counts = check["numbers"]["predictions"]
    assert check["passed"] is True and counts[V1] >= 2000 and counts[V2] >= 2000
    assert check["numbers"]["distance"] < 0.1  # --max-prediction-shift's default
    print(f"v1 -> v2: KS distance {check['numbers']['distance']:.3f} over {counts}")


def test_v1_to_v2_fails_a_strict_limit_and_traffic_goes_back(rollout_of, servers, capsys):
    with rollout_of(V2) as (fake, rollout), load(fake, servers, V2, rows=200):
        assert rollout("shift", "--to", V2, *MANY, "--max-prediction-shift", "0") == 1
    assert [parse_traffic(t, None).percent(V2) for t in fake.traffic_history] == [50, 0]
    err = capsys.readouterr().err
    assert err.startswith("live gate failed after step 1 (50 %): prediction shift 0.0")
    assert "(KS distance over " in err and "; largest at $" in err and " p10/p50/p90 $" in err
    assert "limit 0.0" in err and "= --max-prediction-shift 0 + 0.0" in err
    assert f"traffic is back at {V1} 100 %" in err


def test_a_candidate_that_prices_live_inputs_higher_passes_quality_but_not_the_shift(
    rollout_of, servers, capsys, tmp_path
):
    with rollout_of(PRICING) as (fake, rollout), load(fake, servers, PRICING, rows=20):
        assert rollout("shift", "--to", PRICING, "--steps", "50", *SLOW_OK) == 1
    report = json.loads((tmp_path / "reports" / "rollout-shift.json").read_text())
    [quality] = [run for run in report["gates"] if run["gate"] == "quality"]
    assert quality["passed"] is True
    assert [check["passed"] for check in quality["checks"]] == [True, True, None, True, True]
    assert quality["checks"][2]["numbers"]["max"] < 0.001  # v1 to the cent on the reference rows
    check = shift_check(report)
    assert check["passed"] is False and check["numbers"]["distance"] > 0.15
    median = {revision: q[1] for revision, q in check["numbers"]["quantiles"].items()}
    assert median[PRICING] > median[V1] * 1.15
    err = capsys.readouterr().err
    assert err.startswith("live gate failed after step 1 (50 %): prediction shift 0.")
    assert f"traffic is back at {V1} 100 %" in err
    assert percents(fake, PRICING) == 0
