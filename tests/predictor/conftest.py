"""The Flask app and its test client (flaskr style), and a model copy a test may damage."""

import shutil

import pytest

from function import create_app
from tests.support.repo import MODEL_DATA


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
