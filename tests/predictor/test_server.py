"""End to end: the real server process (granian) on 127.0.0.1, driven over HTTP."""

import signal
import socket
import subprocess
import sys

import numpy as np
import pytest
import requests
import tritonclient.http as triton

from loadtest.local_server import start_server, stop, wait_ready
from tests.support.repo import FEATURES
from tests.support.repo import SAMPLE_ROW as ROW

pytestmark = pytest.mark.slow


def test_predict_over_http_names_who_answered(server):
    response = requests.post(f"{server}/predict", json=[ROW, {**ROW, "RM": 4.0}], timeout=5)
    assert response.status_code == 200
    first, second = response.json()["prediction"]
    assert first != second
    assert response.headers["X-Revision"] == "house-price-v1"
    assert response.headers["X-Model-Version"] == "v1"


def test_bad_input_does_not_hurt_the_worker(server):
    junk = ["[" * 200_000, '{"CHAS": {"0": NaN}}', "\xff", "[{}]"]
    for body in junk:
        response = requests.post(
            f"{server}/predict", data=body.encode("utf-8", "surrogateescape"),
            headers={"Content-Type": "application/json"}, timeout=5,
        )  # fmt: skip
        assert response.status_code == 400 and "error" in response.json()
    assert requests.post(f"{server}/predict", json=[ROW], timeout=5).status_code == 200


@pytest.mark.parametrize(("datatype", "binary"), [("FP32", True), ("FP64", False)])
def test_standard_v2_client(any_server, datatype, binary):
    """tritonclient, the reference Open Inference Protocol client, with and without binary data,
    by both paths (the real server; Flask's views alone)."""
    server = any_server
    rows = [ROW, {**ROW, "LSTAT": 20.0}, {**ROW, "CHAS": 1}]
    matrix = np.array([[row[name] for name in FEATURES] for row in rows])
    client = triton.InferenceServerClient(server.removeprefix("http://"))
    try:
        assert client.is_server_live() and client.is_model_ready("house-price")
        tensor = triton.InferInput("features", list(matrix.shape), datatype)
        tensor.set_data_from_numpy(matrix.astype(np.float32 if binary else np.float64), binary)
        outputs = None if binary else [triton.InferRequestedOutput("predict", binary_data=False)]
        result = client.infer("house-price", [tensor], outputs=outputs)
        predicted = result.as_numpy("predict")
        metadata = client.get_model_metadata("house-price")
    finally:
        client.close()
    expected = requests.post(f"{server}/predict", json=rows, timeout=5).json()["prediction"]
    assert predicted.shape == (3, 1)
    np.testing.assert_allclose(predicted.ravel(), expected, rtol=0, atol=1e-4)
    assert metadata["inputs"][0]["shape"] == [-1, 6]


def test_sigterm_finishes_the_request_in_flight_then_exits():
    process, url = start_server()
    try:
        wait_ready(process, url)
        host, port = url.removeprefix("http://").split(":")
        body = requests.models.complexjson.dumps([ROW]).encode()
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            conn.sendall(
                b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:10]
            )
            process.send_signal(signal.SIGTERM)
            conn.sendall(body[10:])
            reply = b""
            while chunk := conn.recv(65536):
                reply += chunk
        assert reply.startswith(b"HTTP/1.1 200"), reply
        assert b'"prediction"' in reply
        assert process.wait(timeout=15) == 0
    finally:
        stop(process)


def test_tampered_artifact_stops_start_up_with_a_clear_message(model_copy):
    model_copy.write_bytes(model_copy.read_bytes()[:-1])
    result = subprocess.run(
        [sys.executable, "-m", "function"], env={"MODEL_PATH": str(model_copy), "PORT": "1"},
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 1
    assert (
        "cannot start" in result.stderr and "refusing to load an unverified file" in result.stderr
    )
