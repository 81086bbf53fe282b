"""MAX_BODY_BYTES holds for every way a body can arrive: by length, chunked, gzip or deflate.

A real server with a 64 KiB limit; compressed bodies are decoded with the decoded size bounded
by the same limit, so a small zip bomb is a 413 and no memory spike.
"""

import gzip
import json
import zlib
from pathlib import Path

import numpy as np
import pytest
import requests
import tritonclient.http as triton

from loadtest.local_server import start_server, stop, wait_ready
from tests.predictor import raw_http
from tests.support.repo import FEATURES, SAMPLE_ROW

pytestmark = pytest.mark.slow

LIMIT = 64 * 1024
ROWS = [SAMPLE_ROW, {**SAMPLE_ROW, "RM": 4.0}]
ENCODE = {"gzip": gzip.compress, "deflate": zlib.compress}


@pytest.fixture(scope="module")
def served():
    """(server process, base URL)"""
    process, url = start_server(MAX_BODY_BYTES=str(LIMIT), READ_TIMEOUT_SECONDS="5")
    try:
        wait_ready(process, url)
        yield process, url
    finally:
        stop(process)


@pytest.fixture(scope="module")
def server(served):
    return served[1]


@pytest.fixture(scope="module")
def expected(server):
    return requests.post(f"{server}/predict", json=ROWS, timeout=5).json()


def post(server, body, encoding=None):
    headers = {"Content-Type": "application/json"}
    if encoding:
        headers["Content-Encoding"] = encoding
    return requests.post(f"{server}/predict", data=body, headers=headers, timeout=10)


def chunks(data, size=1000):
    """As a generator, which requests sends with Transfer-Encoding: chunked."""
    yield from (data[i : i + size] for i in range(0, len(data), size))


def test_chunked_body_within_the_limit_is_read_whole(server, expected):
    assert post(server, chunks(json.dumps(ROWS).encode())).json() == expected


def test_chunked_body_over_the_limit_is_413(server):
    body = json.dumps([SAMPLE_ROW] * 2000).encode()  # ~150 KB
    response = post(server, chunks(body))
    assert response.status_code == 413
    assert response.json()["error"] == f"request body over {LIMIT} bytes (MAX_BODY_BYTES)"


def test_chunked_body_that_also_declares_a_small_length_is_still_limited(server):
    """Transfer-Encoding frames the body then, whatever Content-Length says (RFC 9112 6.3)."""
    body = b"[" + b" " * (2 * LIMIT) + b"]"
    with raw_http.connect(server) as conn:
        conn.sendall(raw_http.head("POST", "/predict", Content_Type="application/json",
                                   Content_Length=10, Transfer_Encoding="chunked"))  # fmt: skip
        conn.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        assert raw_http.read_reply(conn)[0] == 413


def test_declared_length_over_the_limit_is_413_before_any_body(server):
    with raw_http.connect(server) as conn:
        conn.sendall(raw_http.head("POST", "/predict", Content_Type="application/json",
                                   Content_Length=10**9))  # fmt: skip
        status, _, body = raw_http.read_reply(conn)
        assert status == 413 and b"MAX_BODY_BYTES" in body
        assert raw_http.closed_by_server(conn)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
@pytest.mark.parametrize("chunked", [False, True])
def test_compressed_bodies_are_decoded(server, expected, encoding, chunked):
    body = ENCODE[encoding](json.dumps(ROWS).encode())
    response = post(server, chunks(body) if chunked else body, encoding)
    assert response.status_code == 200 and response.json() == expected


def test_zip_bomb_is_413_without_a_memory_spike(served):
    process, server = served
    bomb = gzip.compress(b" " * (32 * 1024 * 1024), compresslevel=9)  # 32 MiB of JSON whitespace
    assert len(bomb) < LIMIT
    worker = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()[0]
    peak_before = peak_memory_kb(worker)
    response = post(server, bomb, "gzip")
    assert response.status_code == 413
    assert response.json()["error"] == f"decoded request body over {LIMIT} bytes (MAX_BODY_BYTES)"
    assert peak_memory_kb(worker) - peak_before < 8 * 1024


@pytest.mark.parametrize(
    ("body", "encoding", "status", "words"),
    [
        (b"\x1f\x8b not gzip", "gzip", 400, "malformed gzip body"),
        (gzip.compress(b"[1, 2, 3]")[:-6], "gzip", 400, "malformed gzip body"),
        (b"[]", "br", 415, "Content-Encoding 'br' is not supported"),
        (b"[]", "gzip, gzip", 415, "'gzip, gzip' is not supported"),
    ],
    ids=["not gzip", "truncated", "brotli", "twice"],
)
def test_bodies_that_cannot_be_decoded(server, body, encoding, status, words):
    response = post(server, body, encoding)
    assert response.status_code == status and words in response.json()["error"]


@pytest.mark.parametrize("algorithm", ["gzip", "deflate"])
def test_tritonclient_request_compression(server, expected, algorithm):
    matrix = np.array([[row[name] for name in FEATURES] for row in ROWS])
    client = triton.InferenceServerClient(server.removeprefix("http://"))
    try:
        tensor = triton.InferInput("features", list(matrix.shape), "FP64")
        tensor.set_data_from_numpy(matrix, binary_data=False)
        outputs = [triton.InferRequestedOutput("predict", binary_data=False)]
        result = client.infer("house-price", [tensor], outputs=outputs,
                              request_compression_algorithm=algorithm)  # fmt: skip
    finally:
        client.close()
    np.testing.assert_allclose(result.as_numpy("predict").ravel(), expected["prediction"],
                               rtol=0, atol=1e-4)  # fmt: skip


def peak_memory_kb(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1])
