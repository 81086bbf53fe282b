"""``house_price_predicted_value``: every price answered, on every prediction path (by Flask's
views and by the real server), in buckets over the card's label range that are the same for
every model, with no series from input."""

import json

import numpy as np
import pandas as pd
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from function import create_app
from function.events import REQUEST_TYPE
from function.metrics import PredictedValues
from function.v2 import LENGTH_HEADER
from tests.support.faulty_models import model_failing_on_unseen_inputs
from tests.support.repo import FEATURES, MODEL_DATA

NAME = "house_price_predicted_value"
# Twelve held-out rows: prices from about $8,000 to $50,000, so several buckets fill
ROWS = pd.read_csv(MODEL_DATA / "reference-rows.csv")[FEATURES].head(12)
RECORDS = ROWS.to_dict(orient="records")
MATRIX = ROWS.to_numpy(dtype=np.float64)
V2_TENSOR = {"name": "x", "shape": list(MATRIX.shape), "datatype": "FP64"}
CARD_RANGE = (5.0, 50.0)  # MEDV over every row of model_data/housing.csv, in $1000s


def histogram(client):
    """{label set: {sample name and le: value}} of the histogram, from the app's /metrics."""
    text = client.get("/metrics").get_data(as_text=True)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    series = {}
    for sample in families[NAME].samples:
        labels = dict(sample.labels)
        le = labels.pop("le", None)
        series.setdefault(tuple(sorted(labels.items())), {})[(sample.name, le)] = sample.value
    return series


def bounds(samples):
    return [le for name, le in samples if name.endswith("_bucket")]


def v2_binary(client, path="/v2/models/house-price/infer"):
    header = json.dumps({"inputs": [{**V2_TENSOR, "parameters": {
        "binary_data_size": MATRIX.nbytes}}], "outputs": [{"name": "predict", "parameters": {
        "binary_data": True}}]}).encode()  # fmt: skip
    response = client.post(path, data=header + MATRIX.astype("<f8").tobytes(), headers={
        LENGTH_HEADER: str(len(header)), "Content-Type": "application/octet-stream"})  # fmt: skip
    length = int(response.headers[LENGTH_HEADER])
    return np.frombuffer(response.get_data()[length:], dtype="<f4").tolist()


def cloudevent(client, structured):
    event = {"specversion": "1.0", "id": "1", "source": "/t", "type": REQUEST_TYPE}
    if structured:
        body = {**event, "datacontenttype": "application/json", "data": RECORDS}
        reply = client.post("/", data=json.dumps(body), content_type="application/cloudevents+json")
        return reply.get_json()["data"]["prediction"]
    headers = {f"ce-{key}": value for key, value in event.items()}
    return client.post("/", json=RECORDS, headers=headers).get_json()["prediction"]


# Every prediction path, each sending ROWS and returning the prices it answered
PATHS = {
    "records": lambda c: c.post("/predict", json=RECORDS).get_json()["prediction"],
    "columns": lambda c: c.post("/predict", json=ROWS.to_dict()).get_json()["prediction"],
    "kserve v1": lambda c: c.post(
        "/v1/models/house-price:predict", json={"instances": MATRIX.tolist()}
    ).get_json()["predictions"],
    "v2 json": lambda c: c.post(
        "/v2/models/house-price/infer", json={"inputs": [{**V2_TENSOR, "data": MATRIX.tolist()}]}
    ).get_json()["outputs"][0]["data"],
    "v2 versioned": lambda c: c.post(
        "/v2/models/house-price/versions/v1/infer",
        json={"inputs": [{**V2_TENSOR, "data": MATRIX.tolist()}]},
    ).get_json()["outputs"][0]["data"],
    "v2 binary": v2_binary,
    "cloudevent binary": lambda c: cloudevent(c, structured=False),
    "cloudevent structured": lambda c: cloudevent(c, structured=True),
}


def expected_cumulative(prices, edges):
    """Prometheus's cumulative buckets, counted plainly: how many prices are <= each edge."""
    return [sum(price <= edge for price in prices) for edge in edges] + [len(prices)]


def test_buckets_split_the_cards_label_range_alike_for_every_model():
    by_version = {}
    for version in ("v1", "v2"):
        app = create_app({"model_path": MODEL_DATA / f"model-{version}.onnx", "revision": "r"})
        [(labels, samples)] = histogram(app.test_client()).items()  # one series, from start-up
        assert labels == (("revision", "r"),)  # the revision, nothing else
        assert samples[(f"{NAME}_count", None)] == 0
        by_version[version] = bounds(samples)
    low, high = CARD_RANGE
    edges = [float(le) for le in by_version["v1"][:-1]]
    assert by_version["v1"][-1] == "+Inf" and len(edges) == 46
    assert edges == pytest.approx(np.linspace(low, high, 46).tolist(), abs=1e-9)
    assert by_version["v2"] == by_version["v1"]  # blue and green compare bucket by bucket


@pytest.mark.parametrize("path", PATHS)
def test_every_prediction_path_records_each_row_in_its_bucket(client_with, path):
    client = client_with()
    prices = PATHS[path](client)
    assert len(prices) == len(ROWS) and len(set(prices)) > 5
    [samples] = histogram(client).values()
    edges = [float(le) for le in bounds(samples)[:-1]]
    buckets = [samples[(f"{NAME}_bucket", le)] for le in bounds(samples)]
    assert buckets == expected_cumulative(prices, edges)
    assert samples[(f"{NAME}_count", None)] == len(prices)
    assert samples[(f"{NAME}_sum", None)] == pytest.approx(sum(prices), rel=1e-6)


def test_each_edge_is_an_upper_bound_and_outliers_land_in_the_end_buckets():
    values = PredictedValues("r", (5.0, 6.0, 7.0))
    values.observe(np.array([4.0, 5.0, 5.5, 6.0, 6.0001, 7.0, 51.0], dtype=np.float32))
    values.observe(np.array([5.0]))  # batches add up
    registry = CollectorRegistry()
    registry.register(values)
    [family] = text_string_to_metric_families(generate_latest(registry).decode())
    found = {(s.name, s.labels.get("le")): s.value for s in family.samples}
    assert [found[(f"{NAME}_bucket", le)] for le in ("5.0", "6.0", "7.0", "+Inf")] == [3, 5, 7, 8]
    assert found[(f"{NAME}_count", None)] == 8
    assert found[(f"{NAME}_sum", None)] == pytest.approx(4 + 5 + 5.5 + 6 + 6.0001 + 7 + 51 + 5)


def collected(values):
    registry = CollectorRegistry()
    registry.register(values)
    [family] = text_string_to_metric_families(generate_latest(registry).decode())
    return {(s.name, s.labels.get("le")): s.value for s in family.samples}


def test_a_few_rows_and_a_large_batch_are_counted_alike():
    """Batches of up to FEW rows are counted in Python, larger ones with numpy: same buckets."""
    prices = np.random.default_rng(7).uniform(0, 60, 200).astype(np.float32)
    prices[:46] = np.linspace(5, 50, 46)  # every edge itself
    few, many = (PredictedValues("r", tuple(np.linspace(5, 50, 46))) for _ in range(2))
    for start in range(0, prices.size, PredictedValues.FEW):
        few.observe(prices[start : start + PredictedValues.FEW])
    many.observe(prices)
    assert prices.size > PredictedValues.FEW
    found, expected = collected(few), collected(many)
    assert found.pop((f"{NAME}_sum", None)) == pytest.approx(expected.pop((f"{NAME}_sum", None)))
    assert found == expected


JUNK = [
    ("/predict", {"data": "not json", "content_type": "application/json"}),
    ("/predict", {"json": [{"CHAS": 0}]}),
    ("/predict", {"json": [{**RECORDS[0], "RM": "x" * 50}]}),
    ("/predict", {"json": RECORDS, "content_type": "text/plain"}),
    ("/v1/models/house-price:predict", {"json": {"instances": [[1, 2]]}}),
    ("/v2/models/house-price/infer", {"json": {"inputs": [{**V2_TENSOR, "data": [1]}]}}),
    ("/v2/models/house-price/versions/v9/infer", {"json": {"inputs": []}}),
    ("/", {"json": RECORDS, "headers": {"ce-specversion": "1.0", "ce-type": "x"}}),
    ("/predict/../v9", {"json": RECORDS}),
    ("/junk/" + "x" * 200, {"json": RECORDS, "headers": {"K-Revision": "evil"}}),
]


def test_junk_adds_no_series_and_no_observation(client):
    PATHS["records"](client)
    before = histogram(client)
    for path, kwargs in JUNK:
        assert 400 <= client.post(path, **kwargs).status_code < 500
        client.get(path, headers={"X-Revision": "evil"})
    assert histogram(client) == before


def test_a_failed_prediction_records_nothing(client_with, tmp_path, row):
    client = client_with(model_path=model_failing_on_unseen_inputs(tmp_path))
    unseen = dict(row, RM=8.0, LSTAT=30.0)  # a non-finite price: the model's 500
    assert client.post("/predict", json=[row, unseen]).status_code == 500
    [samples] = histogram(client).values()
    assert samples[(f"{NAME}_count", None)] == 0
