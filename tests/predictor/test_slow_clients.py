"""A client that sends slowly, or stalls, costs only its own request: a real server, raw sockets.

The server reads each body on granian's I/O threads, not on its one Python thread, and cuts a
request off when its headers or body take longer than READ_TIMEOUT_SECONDS (1 s here).
"""

import threading
import time

import pytest
import requests

from loadtest.local_server import start_server, stop, wait_ready
from tests.predictor import raw_http
from tests.support.repo import SAMPLE_ROW

pytestmark = pytest.mark.slow

READ_TIMEOUT = 1
SLACK = 3  # seconds allowed beyond READ_TIMEOUT for a busy machine
POST = {"Content_Type": "application/json"}


@pytest.fixture(scope="module")
def server():
    process, url = start_server(READ_TIMEOUT_SECONDS=str(READ_TIMEOUT))
    try:
        wait_ready(process, url)
        yield url
    finally:
        stop(process)


def test_stalled_uploads_hold_no_other_request(server):
    started = time.monotonic()
    stalled = [raw_http.connect(server) for _ in range(3)]
    length, chunked, trickle = stalled
    length.sendall(raw_http.head("POST", "/predict", **POST, Content_Length=1000) + b"[{")
    chunked.sendall(raw_http.head("POST", "/predict", **POST, Transfer_Encoding="chunked"))
    chunked.sendall(b"2\r\n[{\r\n")
    trickle.sendall(raw_http.head("POST", "/predict", **POST, Content_Length=100))
    dripping = threading.Thread(target=drip, args=(trickle, b"[" * 100, 0.2))
    dripping.start()

    with requests.Session() as session:  # other connections, while all three are stalled
        for _ in range(20):
            response = session.post(f"{server}/predict", json=[SAMPLE_ROW], timeout=READ_TIMEOUT)
            assert response.status_code == 200
        for path in ("/healthz", "/readyz"):
            assert session.get(f"{server}{path}", timeout=READ_TIMEOUT).status_code == 200
    assert time.monotonic() - started < READ_TIMEOUT, "the valid requests waited for the stalled"

    for kind, conn in zip(("length", "chunked", "trickle"), stalled, strict=True):
        with conn:
            status, headers, body = raw_http.read_reply(conn)
            assert status == 408 and b"READ_TIMEOUT_SECONDS" in body
            assert headers["Content-Type"] == "application/json"
            assert raw_http.closed_by_server(conn), kind
    assert time.monotonic() - started < READ_TIMEOUT + SLACK
    dripping.join()


def test_headers_that_never_end_are_cut_off(server):
    with raw_http.connect(server) as conn:
        conn.sendall(b"POST /predict HTTP/1.1\r\nHost: test\r\nContent-")
        assert raw_http.closed_by_server(conn, within=READ_TIMEOUT + SLACK)


def test_a_client_that_leaves_mid_body_frees_its_request(server):
    with raw_http.connect(server) as conn:
        conn.sendall(raw_http.head("POST", "/predict", **POST, Content_Length=100) + b"[{")
        conn.shutdown(2)  # SHUT_RDWR: the client goes away mid-body
    response = requests.post(f"{server}/predict", json=[SAMPLE_ROW], timeout=READ_TIMEOUT)
    assert response.status_code == 200


def drip(conn, data, interval):
    """Send one byte per interval until the server closes the connection."""
    for byte in data:
        try:
            conn.sendall(bytes([byte]))
        except OSError:
            return
        time.sleep(interval)
