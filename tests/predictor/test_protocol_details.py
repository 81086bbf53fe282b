"""The protocols as their own clients use them: Allow on 405, V2's versioned paths, KServe V1's
model list, OpenMetrics for a scraper that asks for it."""

import numpy as np
import pytest
import requests
import tritonclient.http as triton
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from tritonclient.utils import InferenceServerException

from tests.predictor import raw_http
from tests.support.repo import FEATURES, SAMPLE_ROW

V2 = "/v2/models/house-price"
TENSOR = {"name": "x", "shape": [1, 6], "datatype": "FP64", "data": list(SAMPLE_ROW.values())}


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("get", "/predict", "POST"), ("post", "/readyz", "GET"), ("delete", f"{V2}/infer", "POST"),
])  # fmt: skip
def test_405_says_which_methods_are_allowed(client, method, path, allowed):
    response = getattr(client, method)(path)
    assert response.status_code == 405 and response.get_json()["error"]
    assert allowed in response.headers["Allow"].split(", ")


def test_v2_server_metadata_with_and_without_the_slash(client):
    assert client.get("/v2").get_json() == client.get("/v2/").get_json()
    assert client.get("/v2/").get_json()["name"] == "house-price"


def test_v2_model_ready_names_the_model(client):
    for path in (f"{V2}/ready", f"{V2}/versions/v1/ready"):
        assert client.get(path).get_json() == {"name": "house-price", "ready": True}


def test_v2_versioned_paths_answer_for_the_served_version_only(client):
    assert client.get(f"{V2}/versions/v1").get_json() == client.get(V2).get_json()
    served = client.post(f"{V2}/versions/v1/infer", json={"inputs": [TENSOR]})
    assert served.get_json() == client.post(f"{V2}/infer", json={"inputs": [TENSOR]}).get_json()
    for response in (
        client.get(f"{V2}/versions/v2"),
        client.get(f"{V2}/versions/v2/ready"),
        client.post(f"{V2}/versions/2/infer", json={"inputs": [TENSOR]}),
    ):
        assert response.status_code == 404
        assert "is not served here, only v1" in response.get_json()["error"]


def test_kserve_v1_lists_the_model(client):
    assert client.get("/v1/models").get_json() == {"models": ["house-price"]}


def test_metrics_in_openmetrics_when_asked(client):
    client.post("/predict", json=[SAMPLE_ROW])
    client.post(f"{V2}/versions/v1/infer", json={"inputs": [TENSOR]})
    accept = "application/openmetrics-text; version=1.0.0; charset=utf-8"
    response = client.get("/metrics", headers={"Accept": accept})
    assert response.mimetype == "application/openmetrics-text"
    families = {f.name: f for f in text_string_to_metric_families(response.get_data(as_text=True))}
    requests_by = {s.labels["endpoint"] for s in families["house_price_requests"].samples}
    assert {"/predict", f"{V2}/versions/<version>/infer"} <= requests_by
    assert client.get("/metrics").mimetype == "text/plain"  # what Prometheus asks for by default


@pytest.mark.slow
def test_tritonclient_with_a_model_version(any_server):
    matrix = np.array([[SAMPLE_ROW[name] for name in FEATURES]])
    client = triton.InferenceServerClient(any_server.removeprefix("http://"))
    try:
        assert client.is_model_ready("house-price", "v1")
        assert not client.is_model_ready("house-price", "v9")
        assert client.get_model_metadata("house-price", "v1")["versions"] == ["v1"]
        tensor = triton.InferInput("features", list(matrix.shape), "FP64")
        tensor.set_data_from_numpy(matrix)
        result = client.infer("house-price", [tensor], model_version="v1")
        assert result.as_numpy("predict").shape == (1, 1)
        with pytest.raises(InferenceServerException, match="not served here"):
            client.infer("house-price", [tensor], model_version="v9")
    finally:
        client.close()


@pytest.mark.slow
@pytest.mark.parametrize(("request_head", "status"), [
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\nHost: t\r\n" + b"X-A: 1\r\n" * 200 + b"\r\n", 431),  # over 100 fields
])  # fmt: skip
def test_what_the_http_layer_refuses_itself(server, request_head, status):
    """granian's HTTP layer answers these before the app sees them, with an empty body and no
    hook to change it: the only errors that are not JSON."""
    with raw_http.connect(server) as conn:
        conn.sendall(request_head)
        assert raw_http.read_reply(conn)[0] == status
        assert raw_http.closed_by_server(conn)
    assert requests.get(f"{server}/healthz", timeout=5).status_code == 200
