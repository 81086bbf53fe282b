"""Train each model version on model_data/housing.csv; write artifact, ONNX export and model card.

Run as ``python -m training`` (``make train``). The serving image does not hold this package.
Every version is fitted on the same split; its held-out rows, labelled, go to
``model_data/reference-rows.csv``, which each card names with its sha256.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import onnx
import pandas as pd
from skl2onnx import to_onnx
from skl2onnx.sklapi import CastTransformer
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from training.card import NAME, model_card

DATA_DIR = Path(__file__).resolve().parent.parent / "model_data"
# The API's features, in order: the keys of the sample row (the first row of the data set).
FEATURES = list(json.loads((DATA_DIR / "sample-row.json").read_text()))
TARGET = "MEDV"
EXAMPLE_ROW = 0  # a real request, with its real price: the sample row is this row
SEED = 42
TEST_SIZE = 0.2
REFERENCE_ROWS = "reference-rows.csv"
# ONNX Runtime sums tree leaves in float32; $0.10 is far below any price difference that matters.
ONNX_TOLERANCE = 1e-4


def _scaled(columns: list[str]) -> ColumnTransformer:
    """Scale the given feature columns with training-split statistics; drop the rest."""
    indices = [FEATURES.index(name) for name in columns]
    return ColumnTransformer([("scale", StandardScaler(), indices)], remainder="drop")


# v1 reproduces the original service's model. v2 is tuned and ignores B (see card.ETHICS): it still
# accepts all six features, so the API contract is the same for both revisions.
VERSIONS: dict[str, dict[str, Any]] = {
    "v1": {
        "features_used": FEATURES,
        "regressor": lambda: GradientBoostingRegressor(random_state=SEED),
    },
    "v2": {
        "features_used": [name for name in FEATURES if name != "B"],
        "regressor": lambda: GradientBoostingRegressor(
            n_estimators=300, learning_rate=0.05, max_depth=3, subsample=0.8, random_state=SEED
        ),
    },
}


def load_data(path: Path = DATA_DIR / "housing.csv") -> tuple[np.ndarray, np.ndarray]:
    """The six API features as a float64 matrix and the target, in file order."""
    return _arrays(pd.read_csv(path))


def _arrays(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return frame[FEATURES].to_numpy(dtype=np.float64), frame[TARGET].to_numpy(dtype=np.float64)


@dataclass(frozen=True)
class Split:
    """The training rows and the labelled held-out rows, the same for every version."""

    train: pd.DataFrame
    test: pd.DataFrame
    features: tuple[str, ...] = tuple(FEATURES)
    target: str = TARGET

    @property
    def x_train(self) -> np.ndarray:
        return _arrays(self.train)[0]

    @property
    def labels(self) -> np.ndarray:
        """The target of every row, training and held-out."""
        frames = (self.train, self.test)
        return np.concatenate([frame[self.target].to_numpy(dtype=np.float64) for frame in frames])

    @property
    def description(self) -> str:
        rows = len(self.train) + len(self.test)
        return f"held-out {TEST_SIZE:.0%} of {rows} rows, random_state={SEED}"


def split_data(path: Path = DATA_DIR / "housing.csv") -> Split:
    train, test = train_test_split(pd.read_csv(path), test_size=TEST_SIZE, random_state=SEED)
    return Split(train, test)


def write_reference_rows(split: Split, path: Path) -> None:
    """The held-out rows with their labels, as in housing.csv (the same bytes every run)."""
    split.test[[*FEATURES, TARGET]].to_csv(path, index=False, lineterminator="\n")


def build_pipeline(spec: dict[str, Any]) -> Pipeline:
    return Pipeline([("scale", _scaled(spec["features_used"])), ("regress", spec["regressor"]())])


def identity(version: str) -> dict[str, str]:
    """What an artifact records of itself, for the server to hold its card to."""
    return {"name": NAME, "version": version, "features": json.dumps(FEATURES)}


def export_onnx(pipeline: Pipeline, sample: np.ndarray, identity: dict[str, str]) -> bytes:
    """Convert the fitted pipeline to ONNX with a float64 input of shape [N, 6].

    scikit-learn scales in float64 and its trees compare float32 values; a plain float32 export
    scales in float32 instead, which flips splits near a threshold (errors of several $1000s on
    random rows). Scaling in float64 and casting before the trees, as scikit-learn does, avoids it.
    ``identity`` (name, version, features in input order) goes into the model's metadata, inside
    the hashed bytes, so that the server can hold the card to it.
    """
    *transforms, regressor = pipeline.steps
    cast = ("cast", CastTransformer(dtype=np.float32).fit(sample))
    model = to_onnx(Pipeline([*transforms, cast, regressor]), sample)
    opsets = sorted(model.opset_import, key=lambda opset: opset.domain)  # skl2onnx uses a set
    del model.opset_import[:]
    model.opset_import.extend(opsets)
    onnx.helper.set_model_props(model, identity)
    return model.SerializeToString()


def onnx_predictions(onnx_bytes: bytes, features: np.ndarray) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: features})[0].ravel()


def example(features: np.ndarray, target: np.ndarray) -> dict[str, Any]:
    """A real row of the data set, its features as a request takes them, and its real price."""
    row = dict(zip(FEATURES, map(float, features[EXAMPLE_ROW]), strict=True))
    return {"row": EXAMPLE_ROW, "features": row, TARGET: float(target[EXAMPLE_ROW])}


def train_version(
    name: str, spec: dict[str, Any], split: Split, the_example: dict[str, Any], out_dir: Path
) -> dict[str, Any]:
    """Fit one version, check its ONNX export on all rows, write its files; return its card."""
    (x_train, y_train), (x_test, y_test) = _arrays(split.train), _arrays(split.test)
    pipeline = build_pipeline(spec).fit(x_train, y_train)
    predicted = pipeline.predict(x_test)
    features = np.vstack([x_train, x_test])
    onnx_bytes = export_onnx(pipeline, x_train[:1], identity(name))
    onnx_diff = float(
        np.max(np.abs(onnx_predictions(onnx_bytes, features) - pipeline.predict(features)))
    )
    if onnx_diff > ONNX_TOLERANCE:
        raise SystemExit(f"{name}: ONNX export differs from scikit-learn by {onnx_diff}")

    stem = out_dir / f"model-{name}"
    joblib.dump(pipeline, stem.with_suffix(".joblib"))
    stem.with_suffix(".onnx").write_bytes(onnx_bytes)
    metrics = {
        "rmse": float(np.sqrt(mean_squared_error(y_test, predicted))),
        "mae": float(mean_absolute_error(y_test, predicted)),
        "r2": float(r2_score(y_test, predicted)),
    }
    files = {
        "reference": out_dir / REFERENCE_ROWS,
        "sklearn": stem.with_suffix(".joblib"),
        "onnx": stem.with_suffix(".onnx"),
        "onnx_diff": onnx_diff,
        "data": DATA_DIR / "housing.csv",
    }
    card = model_card(name, spec, pipeline, split, metrics, files, the_example)
    stem.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    return card


def main(out_dir: str | Path = DATA_DIR) -> None:
    out_dir = Path(out_dir)
    split, the_example = split_data(), example(*load_data())
    write_reference_rows(split, out_dir / REFERENCE_ROWS)
    for name, spec in VERSIONS.items():
        metrics = train_version(name, spec, split, the_example, out_dir)["metrics"]
        print(f"{name}: R2={metrics['r2']:.4f} RMSE={metrics['rmse']:.3f} MAE={metrics['mae']:.3f}")
