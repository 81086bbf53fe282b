"""The Flask app and its clients (flaskr style), and a model copy a test may damage.

``client`` and ``client_with`` come in two paths, each test run by both: ``flask``, the Flask
test client on the app's views, and ``server``, the real server over HTTP, whose gateway
answers predictions on its lean path (``function/gateway.py``) and hands the rest to Flask.
"""

import shutil
import threading

import pytest
from werkzeug.serving import make_server

from function import create_app
from loadtest.local_server import start_server, stop, wait_ready
from tests.predictor.over_http import PATHS, REVISION, ServerClient
from tests.support.repo import MODEL_DATA

# Settings (function.config.Settings fields) as the server reads them from its environment
ENVIRONMENT = {"revision": "K_REVISION", "model_path": "MODEL_PATH",
               "max_batch_rows": "MAX_BATCH_ROWS", "max_body_bytes": "MAX_BODY_BYTES",
               "pod_name": "HOSTNAME"}  # fmt: skip


@pytest.fixture
def app():
    return create_app({"revision": REVISION})


@pytest.fixture(params=PATHS)
def client(request):
    """A client of a predictor of model v1 as revision house-price-v1. The real server is
    shared by a module's tests: a test that counts from zero takes ``client_with``."""
    if request.param == "flask":
        return request.getfixturevalue("app").test_client()
    return ServerClient(request.getfixturevalue("server"))


@pytest.fixture(params=PATHS)
def client_with(request):
    """``client_with(**settings)``: a client of a new predictor with these settings."""
    servers = []

    def make(**settings):
        settings = {"revision": REVISION, **settings}
        if request.param == "flask":
            return create_app(settings).test_client()
        env = {ENVIRONMENT[name]: str(value) for name, value in settings.items()}
        if "pod_name" in settings:
            env["EXPOSE_POD_NAME"] = "1"
        process, url = start_server(**env)
        servers.append(process)
        wait_ready(process, url)
        return ServerClient(url)

    yield make
    for process in servers:
        stop(process)


@pytest.fixture(scope="module", params=PATHS)
def any_server(request):
    """A URL for clients that speak HTTP themselves (tritonclient): the real server, or Flask's
    views alone, the app served by Werkzeug's own server in a thread."""
    if request.param == "server":
        yield request.getfixturevalue("server")
        return
    httpd = make_server("127.0.0.1", 0, create_app({"revision": REVISION}), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def model_copy(tmp_path):
    """A private copy of model v1 (artifact + card) that a test may damage."""
    for suffix in (".onnx", ".json"):
        shutil.copy(MODEL_DATA / f"model-v1{suffix}", tmp_path / f"model-v1{suffix}")
    return tmp_path / "model-v1.onnx"
