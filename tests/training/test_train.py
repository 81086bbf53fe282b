"""Training: reproducible, good enough, and the ONNX export serves scikit-learn's predictions."""

import json

import joblib
import numpy as np
import pandas as pd
import pytest

from function.model import Model
from tests.support.repo import MODEL_DATA, SAMPLE_ROW
from training import train
from training.card import sha256_of

ONNX_TOLERANCE = 1e-4  # in $1000s: ONNX Runtime sums the trees' leaves in float32


@pytest.fixture(scope="module")
def retrained(tmp_path_factory):
    out = tmp_path_factory.mktemp("models")
    train.main(out)
    return out


def card(directory, version):
    return json.loads((directory / f"model-{version}.json").read_text())


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_training_reproduces_the_committed_models(retrained, version):
    fresh, committed = card(retrained, version), card(MODEL_DATA, version)
    assert fresh["metrics"] == committed["metrics"]
    assert fresh["artifacts"]["onnx"]["sha256"] == committed["artifacts"]["onnx"]["sha256"]
    assert fresh == committed


def test_training_writes_the_same_reference_rows(retrained):
    name = card(MODEL_DATA, "v1")["metrics"]["reference_rows"]["file"]
    assert (retrained / name).read_bytes() == (MODEL_DATA / name).read_bytes()


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_the_reference_rows_are_the_held_out_rows_the_card_measures(version):
    metrics = card(MODEL_DATA, version)["metrics"]
    path = MODEL_DATA / metrics["reference_rows"]["file"]
    assert sha256_of(path) == metrics["reference_rows"]["sha256"]
    rows = pd.read_csv(path)
    assert list(rows.columns) == [*train.FEATURES, "MEDV"] and len(rows) == 102  # 20 % of 506
    served = (
        Model(MODEL_DATA / f"model-{version}.onnx")
        .load()
        .predict(rows[train.FEATURES].to_numpy(dtype=np.float64))
    )
    errors = served - rows["MEDV"].to_numpy()
    assert np.sqrt(np.mean(errors**2)) == pytest.approx(metrics["rmse"], abs=1e-4)
    assert np.mean(np.abs(errors)) == pytest.approx(metrics["mae"], abs=1e-4)


def test_served_default_is_good_enough():
    metrics = card(MODEL_DATA, "v1")["metrics"]
    assert metrics["r2"] >= 0.80 and metrics["rmse"] < 5


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_onnx_serves_the_sklearn_predictions_on_all_506_rows(version):
    features, _ = train.load_data()
    assert features.shape == (506, 6)
    pipeline = joblib.load(MODEL_DATA / f"model-{version}.joblib")  # committed, hash in the card
    served = Model(MODEL_DATA / f"model-{version}.onnx").load().predict(features)
    np.testing.assert_allclose(served, pipeline.predict(features), rtol=0, atol=ONNX_TOLERANCE)


def test_onnx_export_does_not_flip_splits_on_unseen_rows():
    """Scaling in float32 flipped tree splits near thresholds; the export scales in float64."""
    features, _ = train.load_data()
    rng = np.random.default_rng(7)
    rows = np.round(rng.uniform(features.min(0), features.max(0), size=(20_000, 6)), 2)
    for version in ("v1", "v2"):
        pipeline = joblib.load(MODEL_DATA / f"model-{version}.joblib")
        served = Model(MODEL_DATA / f"model-{version}.onnx").load().predict(rows)
        np.testing.assert_allclose(served, pipeline.predict(rows), rtol=0, atol=ONNX_TOLERANCE)


def test_v2_ignores_feature_b():
    features, _ = train.load_data()
    model = Model(MODEL_DATA / "model-v2.onnx").load()
    changed = features.copy()
    changed[:, train.FEATURES.index("B")] = 0.0
    np.testing.assert_array_equal(model.predict(features), model.predict(changed))
    assert [f["used"] for f in card(MODEL_DATA, "v2")["features"]] == [1, 1, 1, 1, 0, 1]


def test_card_describes_the_model():
    v1 = card(MODEL_DATA, "v1")
    assert [f["name"] for f in v1["features"]] == train.FEATURES
    assert all(f["min"] < f["max"] for f in v1["features"])
    assert all(f["description"] and f["unit"] for f in v1["features"])
    assert v1["target"]["name"] == "MEDV" and "1000" in v1["target"]["unit"]
    assert v1["target"]["usd_per_unit"] == 1000
    features, target = train.load_data()
    # The label range of the whole data set, so every version's prediction buckets are the same
    assert (v1["target"]["min"], v1["target"]["max"]) == (target.min(), target.max()) == (5, 50)
    assert card(MODEL_DATA, "v2")["target"] == v1["target"]
    assert list(v1["example"]["features"].values()) == list(features[0])  # a real row
    assert v1["example"]["MEDV"] == target[0]
    assert "Black residents" in v1["ethics"]
    assert set(v1["libraries"]) >= {"scikit-learn", "onnxruntime", "skl2onnx"}


def test_the_sample_row_is_the_first_row_of_the_data_set():
    features, _ = train.load_data()
    assert list(SAMPLE_ROW) == train.FEATURES
    assert features[0].tolist() == list(SAMPLE_ROW.values())
