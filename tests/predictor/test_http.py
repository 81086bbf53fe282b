"""Every endpoint by both paths (Flask's views and the real server): contracts, headers,
metrics, and every bad-input class."""

import json

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from function import create_app
from tests.support.faulty_models import model_failing_on_unseen_inputs
from tests.support.repo import FEATURES, SAMPLE_ROW

# The sample row as pandas "columns" JSON, the contract of the original service.
COLUMNS_BODY = {name: {"0": value} for name, value in SAMPLE_ROW.items()}


def post_json(client, path, payload, **kwargs):
    return client.post(path, data=json.dumps(payload), content_type="application/json", **kwargs)


def prediction(response):
    assert response.status_code == 200, response.get_json()
    return response.get_json()["prediction"]


def test_pandas_columns_contract(client):
    response = post_json(client, "/predict", COLUMNS_BODY)
    [value] = prediction(response)
    assert 5 < value < 50
    assert response.headers["X-Model-Version"] == "v1"
    assert response.headers["X-Revision"] == "house-price-v1"


def test_records_match_columns_and_keep_order(client, row):
    rich = {**row, "RM": 8.0, "LSTAT": 2.0}
    poor = {**row, "RM": 4.5, "LSTAT": 30.0}
    both = prediction(post_json(client, "/predict", [rich, poor]))
    assert both == [prediction(post_json(client, "/predict", [r]))[0] for r in (rich, poor)]
    assert both[0] > both[1] + 10


def test_single_record_is_one_row(client, row):
    assert prediction(post_json(client, "/predict", row)) == prediction(
        post_json(client, "/predict", [row])
    )


def test_columns_with_several_rows_follow_the_index_order(client, row):
    other = {**row, "RM": 7.5}
    columns = {name: {"a": row[name], "b": other[name]} for name in FEATURES}
    assert prediction(post_json(client, "/predict", columns)) == prediction(
        post_json(client, "/predict", [row, other])
    )


def test_two_different_rows_get_two_different_predictions(client, row):
    """The original service scaled each request on its own: every single row got one answer."""
    first = prediction(post_json(client, "/predict", COLUMNS_BODY))
    second = prediction(post_json(client, "/predict", [{**row, "RM": 4.0, "LSTAT": 25.0}]))
    assert first != second


def test_kserve_v1_lists_and_objects(client, row):
    as_list = [row[name] for name in FEATURES]
    response = post_json(client, "/v1/models/house-price:predict", {"instances": [as_list, row]})
    assert response.status_code == 200
    first, second = response.get_json()["predictions"]
    assert first == second == prediction(post_json(client, "/predict", [row]))[0]
    assert response.headers["X-Revision"] == "house-price-v1"
    assert client.get("/v1/models/house-price").get_json() == {"name": "house-price", "ready": True}


def test_v2_json_infer_and_metadata(client, row):
    data = [row[name] for name in FEATURES] * 2
    request = {
        "id": "r-1",
        "inputs": [{"name": "x", "shape": [2, 6], "datatype": "FP64", "data": data}],
    }
    response = post_json(client, "/v2/models/house-price/infer", request)
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == "r-1" and body["model_name"] == "house-price"
    [output] = body["outputs"]
    assert output["shape"] == [2, 1] and output["datatype"] == "FP32"
    assert output["data"] == prediction(post_json(client, "/predict", [row, row]))
    meta = client.get("/v2/models/house-price").get_json()
    assert meta["versions"] == ["v1"] and meta["inputs"][0]["shape"] == [-1, 6]
    for path in ("/v2/models/house-price/ready", "/v2/health/ready", "/v2/health/live"):
        assert client.get(path).status_code == 200


def test_cloudevent_binary_mode(client, row):
    headers = {"ce-specversion": "1.0", "ce-id": "42", "ce-source": "/test",
               "ce-type": "house-price.predict.request"}  # fmt: skip
    response = post_json(client, "/", [row], headers=headers)
    assert response.status_code == 200
    assert response.headers["ce-type"] == "house-price.predict.response"
    assert response.headers["ce-source"] == "/house-price/house-price-v1"
    assert response.get_json()["prediction"] == prediction(post_json(client, "/predict", [row]))


def test_cloudevent_structured_mode(client, row):
    event = {"specversion": "1.0", "id": "1", "source": "/t", "type": "house-price.predict.request",
             "datacontenttype": "application/json", "data": row}  # fmt: skip
    response = client.post("/", data=json.dumps(event), content_type="application/cloudevents+json")
    assert response.status_code == 200
    reply = json.loads(response.data)
    assert reply["type"] == "house-price.predict.response"
    assert reply["data"]["model_version"] == "v1"
    assert len(reply["data"]["prediction"]) == 1


def test_health_and_readiness(client):
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["model_version"] == "v1"


def samples(client) -> dict:
    """Every sample of ``/metrics``: (name, sorted labels) -> value."""
    text = client.get("/metrics").get_data(as_text=True)
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def labelled(metric, **labels):
    return metric, tuple(sorted(labels.items()))


def requests_total(endpoint, status, kind="prediction", revision="house-price-v1"):
    labels = {"endpoint": endpoint, "kind": kind, "revision": revision, "status": status}
    return labelled("house_price_requests_total", **labels)


def test_metrics_count_requests_rows_and_model(client_with, row):
    client = client_with()
    post_json(client, "/predict", [row, row, row])
    post_json(client, "/predict", [])
    client.get("/no/such/path")
    found = samples(client)
    assert found[requests_total("/predict", "200")] == 1
    assert found[requests_total("/predict", "400")] == 1
    assert found[requests_total("unmatched", "404", kind="other")] == 1
    assert found[("house_price_rows_predicted_total", ())] == 3
    latency = {"endpoint": "/predict", "kind": "prediction", "revision": "house-price-v1"}
    assert found[labelled("house_price_request_duration_seconds_count", **latency)] == 2
    info = {"name": "house-price", "revision": "house-price-v1", "version": "v1"}
    assert found[labelled("house_price_model_info", **info)] == 1


def test_only_posts_to_prediction_endpoints_are_predictions(client_with, row):
    """What the rollout tool's live gate counts: not health checks, scrapes or the page."""
    client = client_with()
    post_json(client, "/predict", [row])
    client.get("/", headers={"Accept": "application/json"})  # KServe V1 liveness, same path as /
    client.get("/healthz")
    found = samples(client)
    assert found[requests_total("/predict", "200")] == 1
    assert found[requests_total("/", "200")] == 0  # the CloudEvents endpoint, still unused
    assert found[requests_total("/", "200", kind="other")] == 1
    assert found[requests_total("/healthz", "200", kind="other")] == 1


def test_prediction_endpoints_count_from_zero_so_a_first_error_shows_in_a_rate(client_with):
    client = client_with()
    found = samples(client)
    for endpoint in ("/predict", "/v1/models/house-price:predict", "/v2/models/house-price/infer"):
        assert found[requests_total(endpoint, "200")] == found[requests_total(endpoint, "500")] == 0
    assert requests_total("/healthz", "200", kind="other") not in found  # made by its first use


def test_a_non_finite_prediction_is_the_models_500_not_a_null(client_with, tmp_path, row):
    client = client_with(model_path=model_failing_on_unseen_inputs(tmp_path))
    assert post_json(client, "/predict", [row]).status_code == 200
    unseen = dict(row, RM=8.0, LSTAT=30.0)  # a large house in a poor district
    response = post_json(client, "/predict", [row, unseen])
    assert response.status_code == 500
    assert response.get_json() == {
        "error": "the model gave a non-finite prediction for 1 of 2 rows (first: row 1)"
    }


def test_unready_model_answers_503_with_the_reason(model_copy):
    model_copy.write_bytes(b"tampered")
    client = create_app({"model_path": model_copy}).test_client()
    assert client.get("/healthz").status_code == 200
    for response in (client.get("/readyz"), post_json(client, "/predict", [])):
        assert response.status_code == 503
        assert "sha256" in response.get_json()["error"]


ROW_OK = {"CHAS": 0, "RM": 6.5, "TAX": 296, "PTRATIO": 15.3, "B": 396.9, "LSTAT": 4.98}
BAD_PREDICT_BODIES = {
    "missing feature": ([{k: v for k, v in ROW_OK.items() if k != "RM"}], 400, "missing RM"),
    "unknown feature": ([{**ROW_OK, "ZN": 1}], 400, "unknown ZN"),
    "string value": ([{**ROW_OK, "TAX": "296"}], 400, "feature TAX in row 0"),
    "bool value": ([{**ROW_OK, "CHAS": True}], 400, "feature CHAS in row 0"),
    "null value": ([{**ROW_OK, "LSTAT": None}], 400, "feature LSTAT in row 0"),
    "nested junk": ([{**ROW_OK, "RM": [[{"x": 1}]]}], 400, "feature RM in row 0"),
    "row not an object": ([ROW_OK, 7], 400, "row 1"),
    "empty batch": ([], 400, "empty batch"),
    "empty object": ({}, 400, "missing"),
    "not rows at all": ("just a string", 400, "expected"),
    "ragged columns": (
        {**{k: {"0": v} for k, v in ROW_OK.items()}, "RM": {"1": 6.5}},
        400,
        "column RM",
    ),  # fmt: skip
    "huge integer": ([{**ROW_OK, "TAX": 10**400}], 400, "malformed JSON"),
}


@pytest.mark.parametrize("case", BAD_PREDICT_BODIES, ids=str)
def test_bad_predict_bodies_are_4xx_naming_the_problem(client, case):
    body, status, words = BAD_PREDICT_BODIES[case]
    response = post_json(client, "/predict", body)
    assert response.status_code == status
    assert words in response.get_json()["error"]


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_rejected(client, token):
    body = json.dumps([ROW_OK]).replace("6.5", token)
    response = client.post("/predict", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "malformed JSON" in response.get_json()["error"]  # strict JSON has no NaN/Infinity


def test_malformed_json(client):
    response = client.post("/predict", data='[{"CHAS": 0,', content_type="application/json")
    assert response.status_code == 400 and "malformed JSON" in response.get_json()["error"]


def test_deeply_nested_json_is_a_400_not_a_crash(client):
    response = client.post("/predict", data="[" * 100_000, content_type="application/json")
    assert response.status_code == 400 and "malformed JSON" in response.get_json()["error"]


def test_wrong_content_type(client, row):
    response = client.post("/predict", data=json.dumps([row]), content_type="text/plain")
    assert response.status_code == 415
    assert "application/json" in response.get_json()["error"]


def test_too_many_rows(client_with, row):
    client = client_with(max_batch_rows=3)
    assert post_json(client, "/predict", [row] * 3).status_code == 200
    response = post_json(client, "/predict", [row] * 4)
    assert response.status_code == 413 and "4 > 3" in response.get_json()["error"]


def test_body_over_the_size_limit(client_with, row):
    client = client_with(max_body_bytes=1000)
    response = post_json(client, "/predict", [row] * 50)
    assert response.status_code == 413
    assert response.get_json()["error"] == "request body over 1000 bytes (MAX_BODY_BYTES)"


def test_unknown_path_and_wrong_method_are_json(client):
    assert client.get("/nope").status_code == 404
    response = client.get("/predict")
    assert response.status_code == 405 and "error" in response.get_json()


BAD_V2 = {
    "no inputs": ({"x": 1}, "inputs"),
    "two inputs": ({"inputs": [{}, {}]}, "exactly one input"),
    "bad datatype": (
        {"inputs": [{"shape": [1, 6], "datatype": "BYTES", "data": [1] * 6}]},
        "datatype",
    ),  # fmt: skip
    "bad shape": (
        {"inputs": [{"shape": [1, 5], "datatype": "FP32", "data": [1] * 5}]},
        "expected shape [N, 6]",
    ),  # fmt: skip
    "shape mismatch": (
        {"inputs": [{"shape": [2, 6], "datatype": "FP32", "data": [1] * 6}]},
        "needs 12",
    ),  # fmt: skip
    "strings": (
        {"inputs": [{"shape": [1, 6], "datatype": "FP32", "data": ["1"] * 6}]},
        "only numbers",
    ),  # fmt: skip
    "ragged": (
        {"inputs": [{"shape": [1, 6], "datatype": "FP32", "data": [[1, 2], [3]]}]},
        "evenly nested",
    ),  # fmt: skip
    "nan": (
        {"inputs": [{"shape": [1, 6], "datatype": "FP64", "data": [float("nan")] * 6}]},
        "malformed JSON",
    ),  # fmt: skip
    "empty": ({"inputs": [{"shape": [0, 6], "datatype": "FP64", "data": []}]}, "empty batch"),
}


@pytest.mark.parametrize("case", BAD_V2, ids=str)
def test_bad_v2_requests_are_400(client, case):
    body, words = BAD_V2[case]
    response = post_json(client, "/v2/models/house-price/infer", body)
    assert response.status_code == 400
    assert words in response.get_json()["error"]


def test_bad_v1_request(client):
    response = post_json(client, "/v1/models/house-price:predict", {"rows": []})
    assert response.status_code == 400 and "instances" in response.get_json()["error"]
    response = post_json(client, "/v1/models/house-price:predict", {"instances": [[1, 2]]})
    assert response.status_code == 400 and "instance 0" in response.get_json()["error"]


CE_HEADERS = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/t",
              "ce-type": "house-price.predict.request"}  # fmt: skip
BAD_EVENTS = {
    "missing id": ({k: v for k, v in CE_HEADERS.items() if k != "ce-id"}, "[]", "id"),
    "wrong type": ({**CE_HEADERS, "ce-type": "other"}, "[]", "unsupported event type"),
    "bad spec version": ({**CE_HEADERS, "ce-specversion": "9.9"}, "[]", "specversion"),
    "bad time": ({**CE_HEADERS, "ce-time": "yesterday"}, "[]", "malformed CloudEvent"),
    "data not rows": (CE_HEADERS, '"text"', "event data"),
    "not an event": ({}, "[]", "CloudEvent"),
}


@pytest.mark.parametrize("case", BAD_EVENTS, ids=str)
def test_malformed_cloudevents_are_4xx(client, case):
    headers, body, words = BAD_EVENTS[case]
    response = client.post("/", data=body, headers=headers, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert words in response.get_json()["error"]


def test_structured_event_that_is_not_an_object(client):
    response = client.post("/", data="[1]", content_type="application/cloudevents+json")
    assert response.status_code == 400 and "JSON object" in response.get_json()["error"]


def binary_infer(client, matrix, datatype="FP32", declared=None, extra=b""):
    raw = matrix.tobytes() + extra
    size = len(raw) if declared is None else declared
    header = json.dumps({
        "inputs": [{"name": "x", "shape": list(matrix.shape), "datatype": datatype,
                    "parameters": {"binary_data_size": size}}],
        "parameters": {"binary_data_output": True},
    }).encode()  # fmt: skip
    return client.post(
        "/v2/models/house-price/infer", data=header + raw,
        headers={"Inference-Header-Content-Length": str(len(header))},
        content_type="application/octet-stream",
    )  # fmt: skip


def test_v2_binary_tensors_in_and_out(client, row):
    matrix = np.array([[row[name] for name in FEATURES]] * 2, dtype=np.float32)
    response = binary_infer(client, matrix)
    assert response.status_code == 200
    length = int(response.headers["Inference-Header-Content-Length"])
    header = json.loads(response.data[:length])
    [output] = header["outputs"]
    assert output["parameters"]["binary_data_size"] == 8 and "data" not in output
    values = np.frombuffer(response.data[length:], dtype="<f4")
    expected = prediction(post_json(client, "/predict", [row]))[0]
    np.testing.assert_allclose(values, [expected, expected], rtol=1e-6)


def test_v2_binary_errors(client):
    nan_row = np.full((1, 6), np.nan, dtype=np.float32)
    assert "not finite" in binary_infer(client, nan_row).get_json()["error"]
    ok_row = np.ones((1, 6), dtype=np.float64)
    response = binary_infer(client, ok_row, datatype="FP64", declared=40)
    assert response.status_code == 400 and "binary_data_size" in response.get_json()["error"]
    response = binary_infer(client, ok_row, datatype="FP32")
    assert response.status_code == 400 and "needs 6" in response.get_json()["error"]
    bad_length = client.post(
        "/v2/models/house-price/infer", data=b"{}",
        headers={"Inference-Header-Content-Length": "99"},
    )  # fmt: skip
    assert bad_length.status_code == 400
    assert "Inference-Header-Content-Length" in bad_length.get_json()["error"]
