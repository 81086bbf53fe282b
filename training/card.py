"""The model card: what a model takes, how good it is on the held-out rows, and its artifacts."""

from __future__ import annotations

import hashlib
import platform
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

    from training.train import Split

ETHICS = (
    "Feature B is 1000(Bk - 0.63)^2, where Bk is the proportion of Black residents by town: it "
    "encodes race, and the 1978 authors assumed racial self-segregation has a (non-monotonic) "
    "effect on prices. scikit-learn removed this data set in version 1.2 for that reason. A "
    "prediction that uses B can carry racial bias into a valuation; do not use these models for "
    "real decisions about people or property. The data are also from 1970, censored at "
    "MEDV = 50, and from one city."
)
NAME = "house-price"
LIBRARIES = ("scikit-learn", "numpy", "skl2onnx", "onnx", "onnxruntime")
# What each feature means and its unit, for the card (the try-it page labels its form with them).
FEATURE_TEXT = {
    "CHAS": ("bounds the Charles River", "1 = yes, 0 = no"),
    "RM": ("average rooms per dwelling", "rooms"),
    "TAX": ("property-tax rate", "USD per USD 10,000"),
    "PTRATIO": ("pupil-teacher ratio", "pupils per teacher"),
    "B": ("1000(Bk - 0.63)^2, Bk the share of Black residents (see ethics)", "index"),
    "LSTAT": ("lower-status population", "%"),
}


def sha256_of(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def model_card(
    name: str,
    spec: dict[str, Any],
    pipeline: Pipeline,
    split: Split,
    metrics: dict[str, float],
    files: dict[str, Any],
    example: dict[str, Any],
) -> dict[str, Any]:
    """The card of one version; ``files`` holds the paths of its artifacts and of the data,
    ``example`` a real row with its real price.

    The target's ``min`` and ``max`` are over every row of the data set, not the training split:
    every model trained on it has the same label range, so the server's histogram of predicted
    prices has the same buckets for blue and green (``function/metrics.py``).
    """
    x_train = split.x_train
    labels = split.labels
    return {
        "name": NAME,
        "version": name,
        "description": f"Pipeline(scale {', '.join(spec['features_used'])}; {pipeline[-1]!r})",
        "features": [
            {
                "name": feature,
                "description": FEATURE_TEXT[feature][0],
                "unit": FEATURE_TEXT[feature][1],
                "min": float(x_train[:, i].min()),
                "max": float(x_train[:, i].max()),
                "used": feature in spec["features_used"],
            }
            for i, feature in enumerate(split.features)
        ],
        "target": {
            "name": split.target,
            "unit": "median home value in USD 1000s",
            "usd_per_unit": 1000,
            "min": float(labels.min()),
            "max": float(labels.max()),
        },
        "example": example,
        "metrics": {
            "split": split.description,
            # The labelled held-out rows these metrics come from: anyone (and the rollout gate)
            # can send them to a served model and measure it again.
            "reference_rows": _file(files["reference"]),
            **metrics,
        },
        "artifacts": {
            "sklearn": _file(files["sklearn"]),
            "onnx": _file(files["onnx"]) | {"max_abs_diff_to_sklearn": files["onnx_diff"]},
        },
        "data": _file(files["data"]),
        "libraries": {
            "python": platform.python_version(),
            **{lib: version(lib) for lib in LIBRARIES},
        },
        "ethics": ETHICS,
    }


def _file(path: str | Path) -> dict[str, str]:
    return {"file": Path(path).name, "sha256": sha256_of(path)}
