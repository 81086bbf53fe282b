"""Shared fixtures: the Flask app and client (flaskr style), rows, and a real server process."""

import json
import shutil
from pathlib import Path

import pytest
from servers import start_server, stop, wait_ready

from function import create_app

ROOT = Path(__file__).resolve().parent.parent
MODEL_DATA = ROOT / "model_data"
FEATURES = ["CHAS", "RM", "TAX", "PTRATIO", "B", "LSTAT"]
ROW = {"CHAS": 0, "RM": 6.575, "TAX": 296.0, "PTRATIO": 15.3, "B": 396.9, "LSTAT": 4.98}


@pytest.fixture
def row():
    return dict(ROW)


@pytest.fixture
def app():
    return create_app({"revision": "house-price-v1"})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def model_copy(tmp_path):
    """A private copy of model v1 (artifact + card) that a test may damage."""
    for suffix in (".onnx", ".json"):
        shutil.copy(MODEL_DATA / f"model-v1{suffix}", tmp_path / f"model-v1{suffix}")
    return tmp_path / "model-v1.onnx"


@pytest.fixture(scope="module")
def server():
    """A real server process on 127.0.0.1 serving model v1 as revision house-price-v1."""
    process, url = start_server(K_REVISION="house-price-v1")
    try:
        wait_ready(process, url)
        yield url
    finally:
        stop(process)


def post_json(client, path, payload, **kwargs):
    return client.post(path, data=json.dumps(payload), content_type="application/json", **kwargs)
