"""The prediction-shift check on histograms as the predictor exposes them (a stand-in exposition
made with prometheus_client, read back through Prometheus's query API), with the real models'
predictions on inputs drawn as live clients send them."""

import json
import math

import numpy as np
import onnxruntime
import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from knative.gates.prediction_shift import C_ALPHA, Predictions, by_revision, query, shift_check
from knative.gates.prometheus import Prometheus
from knative.gates.settings import GateSettings
from tests.rollout.gates.fake_prometheus import FakePrometheus, vector
from tests.support.repo import MODEL_DATA

V1, V2, SHIFTED = "house-price-v1", "house-price-v2", "house-price-v9"
BOUNDS = tuple(float(b) for b in range(5, 51))  # the predictor's: the label range in $1000 steps
LIMITS = GateSettings(min_requests=100)


def live_inputs(count: int, seed: int) -> np.ndarray:
    """Rows drawn across the features' training ranges, as the live-gate tests' load sends."""
    card = json.loads((MODEL_DATA / "model-v1.json").read_text())
    rng = np.random.default_rng(seed)
    rows = np.column_stack([rng.uniform(f["min"], f["max"], count) for f in card["features"]])
    rows[:, 0] = np.round(rows[:, 0])  # CHAS
    return rows


def prices(model: str, rows: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(MODEL_DATA / f"model-{model}.onnx")
    (features,) = session.get_inputs()
    kind = np.float64 if features.type == "tensor(double)" else np.float32
    return session.run(None, {features.name: rows.astype(kind)})[0].ravel()


def exposition(revision: str, answered: np.ndarray) -> str:
    """``house_price_predicted_value`` in the text format, as a predictor serves it."""
    registry = CollectorRegistry()
    histogram = Histogram(
        "house_price_predicted_value", "Prices answered", ["revision"], buckets=BOUNDS,
        registry=registry,
    )  # fmt: skip
    for price in answered:
        histogram.labels(revision).observe(float(price))
    return generate_latest(registry).decode()


def window(*texts: str) -> dict[str, Predictions]:
    """What the gate's query answers over a window that began at 0, read through the API."""
    series = [
        ({"revision": sample.labels["revision"], "le": sample.labels["le"]}, sample.value)
        for text in texts
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.endswith("_bucket")
    ]
    answers = {"/api/v1/query": (200, vector(*series))}
    with FakePrometheus(answers).running() as fake:
        found = Prometheus(fake.url).query_by(query([V2, V1], 30), ("revision", "le"))
    return by_revision(found)


def answered(candidate: tuple[str, str], count: int, seed: int, scale: float = 1.0) -> dict:
    """The window when V1 and ``candidate`` (revision, model) each answer ``count`` live rows;
    the candidate's prices times ``scale``."""
    rows = live_inputs(2 * count, seed)
    revision, model = candidate
    ours = prices(model, rows[count:]) * scale
    return window(exposition(V1, prices("v1", rows[:count])), exposition(revision, ours))


@pytest.fixture(scope="module")
def v1_and_v2():
    return answered((V2, "v2"), 2000, seed=11)


def test_the_query_reads_each_revisions_buckets_over_the_window():
    promql = query([V2, V1], 30)
    selector = f'house_price_predicted_value_bucket{{revision=~"{V2}|{V1}"}}'
    assert promql == f"sum by (revision, le) (increase({selector}[30s]))"


def test_the_histograms_come_back_whole_and_in_order(v1_and_v2):
    ours = v1_and_v2[V2]
    assert ours.bounds == (*BOUNDS, math.inf)
    assert ours.count == 2000 and list(ours.cumulative) == sorted(ours.cumulative)


def test_quantiles_are_read_as_prometheus_histogram_quantile_reads_them():
    side = Predictions((10.0, 20.0, math.inf), (0.0, 100.0, 120.0))
    assert side.quantile(0.5) == 16.0  # rank 60 of 120, linear within (10, 20]
    assert side.quantile(0.9) == 20.0  # in the +Inf bucket: the highest finite bound
    assert Predictions((10.0, math.inf), (40.0, 40.0)).quantile(0.5) == 5.0  # from 0


def test_v1_to_v2_passes_at_the_default(v1_and_v2):
    check = shift_check(v1_and_v2, V2, V1, LIMITS)
    assert check.passed is True
    assert 0.02 < check.numbers["distance"] < 0.1
    assert check.line.startswith(f"prediction shift {check.numbers['distance']:.3f} (KS distance ")
    assert f"over 2000 predictions of {V2} and 2000 of {V1}; largest at $" in check.line
    assert "limit 0.151 = --max-prediction-shift 0.1 + 0.051 for sampling) ok" in check.line


def test_the_same_change_fails_a_strict_limit_once_there_are_enough_predictions():
    found = answered((V2, "v2"), 20_000, seed=12)
    check = shift_check(found, V2, V1, GateSettings(max_prediction_shift=0.0))
    assert check.passed is False
    assert check.numbers["distance"] > check.numbers["allowance"] == pytest.approx(0.0163, abs=1e-4)
    assert "FAILED: 0.0" in check.line and " over" in check.line


def test_one_model_on_two_samples_passes_even_a_strict_limit():
    found = answered((V2, "v1"), 500, seed=13)
    check = shift_check(found, V2, V1, GateSettings(max_prediction_shift=0.0))
    assert check.passed is True  # sampling alone: within the allowance
    assert check.numbers["allowance"] == pytest.approx(C_ALPHA * math.sqrt(2 / 500))


def test_prices_a_fifth_higher_fail_and_say_by_how_much_where_and_with_how_many():
    found = answered((SHIFTED, "v1"), 2000, seed=14, scale=1.2)
    check = shift_check(found, SHIFTED, V1, LIMITS)
    assert check.passed is False
    distance, limit = check.numbers["distance"], check.numbers["limit"]
    assert distance > 0.15 and check.line.endswith(f"FAILED: {distance - limit:.3f} over")
    assert f"over 2000 predictions of {SHIFTED} and 2000 of {V1}" in check.line
    at = check.numbers["at"]
    assert f"largest at ${at * 1000:,.0f}: " in check.line
    ours, theirs = check.numbers["quantiles"][SHIFTED], check.numbers["quantiles"][V1]
    assert ours[1] > theirs[1] * 1.1  # the median moved up
    assert f"p10/p50/p90 ${ours[0]:.1f}k/${ours[1]:.1f}k/${ours[2]:.1f}k vs $" in check.line


def test_too_few_candidate_predictions_is_not_enough_data():
    found = window(exposition(V2, np.full(99, 20.0)), exposition(V1, np.full(500, 20.0)))
    check = shift_check(found, V2, V1, LIMITS)
    assert check.passed is False and check.numbers["enough"] is False
    assert check.line == (
        f"prediction shift: 99 predictions of {V2} and 500 of {V1} (at least 100 wanted) "
        "FAILED: not enough data"
    )


def test_no_histogram_at_all_is_not_enough_data_either():
    assert shift_check({}, V2, V1, LIMITS).numbers["enough"] is False


def test_an_incumbent_without_traffic_is_not_compared():
    """After the last step the incumbent answers nothing: reported, not gated."""
    found = window(exposition(V2, np.full(500, 20.0)), exposition(V1, np.full(3, 20.0)))
    check = shift_check(found, V2, V1, LIMITS)
    assert check.passed is None
    assert check.line.endswith(f"{V1} made too few to compare (reported)")
