"""The artifact check, the model's readiness, and the settings read from the environment."""

import hashlib
import json

import numpy as np
import pytest

from function.artifact import ArtifactError, read_verified
from function.config import DEFAULT_MODEL_PATH, Settings
from function.errors import ModelNotReady
from function.model import Model
from tests.support.repo import MODEL_DATA


def test_committed_models_verify():
    for version in ("v1", "v2"):
        card, artifact = read_verified(MODEL_DATA / f"model-{version}.onnx")
        assert card["version"] == version and len(artifact) > 1000


def test_tampered_artifact_is_refused(model_copy):
    model_copy.write_bytes(model_copy.read_bytes() + b"\0")
    with pytest.raises(ArtifactError, match="sha256 .* but its card says"):
        read_verified(model_copy)


def test_missing_artifact_and_card(model_copy):
    model_copy.unlink()
    with pytest.raises(ArtifactError, match="cannot read model artifact"):
        read_verified(model_copy)
    model_copy.with_suffix(".json").unlink()
    with pytest.raises(ArtifactError, match="cannot read model card"):
        read_verified(model_copy)


@pytest.mark.parametrize("card", ["not json", "[]", '{"name": "x"}'])
def test_malformed_card(model_copy, card):
    model_copy.with_suffix(".json").write_text(card)
    with pytest.raises(ArtifactError, match="is malformed"):
        read_verified(model_copy)


@pytest.mark.parametrize("target", [{}, {"min": 50, "max": 5}, {"min": "5", "max": 50}])
def test_a_card_without_a_label_range_is_malformed(model_copy, target):
    """The range sets the buckets of the predicted prices' histogram."""
    card_path = model_copy.with_suffix(".json")
    card = json.loads(card_path.read_text())
    card["target"] = {
        key: value for key, value in card["target"].items() if key not in ("min", "max")
    }
    card_path.write_text(json.dumps(card | {"target": card["target"] | target}))
    with pytest.raises(ArtifactError, match="is malformed.*target|is malformed.*'min'"):
        read_verified(model_copy)


def test_model_loads_and_predicts_one_float_per_row():
    model = Model(DEFAULT_MODEL_PATH).load()
    assert model.ready and model.error is None and model.version == "v1"
    assert model.feature_names == ["CHAS", "RM", "TAX", "PTRATIO", "B", "LSTAT"]
    rows = np.array([[0, 6.5, 296, 15.3, 396.9, 4.98], [1, 4.0, 700, 21, 100, 30]])
    predictions = model.predict(rows)
    assert predictions.shape == (2,) and predictions[0] > predictions[1]


def test_artifact_that_is_not_onnx_leaves_the_model_not_ready(model_copy):
    model_copy.write_bytes(b"not an onnx file")
    card = json.loads(model_copy.with_suffix(".json").read_text())
    card["artifacts"]["onnx"]["sha256"] = hashlib.sha256(b"not an onnx file").hexdigest()
    model_copy.with_suffix(".json").write_text(json.dumps(card))
    model = Model(model_copy).load()
    assert not model.ready and "protobuf" in model.error.lower()
    with pytest.raises(ModelNotReady, match="model not ready"):
        model.predict(np.zeros((1, 6)))


def test_settings_defaults_and_environment(tmp_path):
    assert Settings.from_env({}) == Settings()
    env = {"HOST": "0.0.0.0", "PORT": "9000", "MODEL_PATH": str(tmp_path / "m.onnx"),
           "K_REVISION": "house-price-v2", "MAX_BATCH_ROWS": "5",
           "MAX_BODY_BYTES": "100"}  # fmt: skip
    settings = Settings.from_env(env)
    assert (settings.host, settings.port, settings.revision) == ("0.0.0.0", 9000, "house-price-v2")
    assert settings.model_path == tmp_path / "m.onnx"
    assert (settings.max_batch_rows, settings.max_body_bytes) == (5, 100)


@pytest.mark.parametrize("value", ["eighty", "-1", "0", "1.5"])
def test_malformed_numbers_in_the_environment(value):
    with pytest.raises(ValueError, match="PORT must be"):
        Settings.from_env({"PORT": value})
