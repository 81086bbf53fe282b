"""Test-only models that misbehave as real ones do, each written with its card beside it, so the
real server (``python -m function``) loads, verifies and serves them like any other version.

- ``constant_model``: answers the training mean for every row (scikit-learn's DummyRegressor;
  skl2onnx has no converter for it, so it is a linear model with zero weights), while its card
  says it uses every feature.
- ``model_failing_on_unseen_inputs``: model v2, except that it answers NaN (the server's 500) for
  a large house in a poor district (RM > 6.9 and LSTAT > 18.5), which no row of the data set is:
  probes and the reference rows pass, live traffic does not.
- ``model_pricing_unseen_inputs_higher``: model v1, except that it prices 30 % higher a row whose
  TAX is not a whole number, which no row of the data set has (tax rates are whole dollars per
  $10,000) and most rows drawn across the features' ranges do: on the reference rows it is v1
  to the cent, so it passes the quality gate; live traffic shifts its prices.
"""

import copy
import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import pandas as pd
from onnx import TensorProto, helper
from skl2onnx import to_onnx
from sklearn.linear_model import LinearRegression

from tests.support.repo import FEATURES, MODEL_DATA
from training.train import identity

REFERENCE = MODEL_DATA / "reference-rows.csv"


def write_model(directory: Path, version: str, artifact: bytes, base: str, **metrics) -> Path:
    """``model-<version>.onnx``, recording its name, version and features as training does, and
    its card (model ``base``'s, with this artifact); the path."""
    card = copy.deepcopy(json.loads((MODEL_DATA / f"model-{base}.json").read_text()))
    model = onnx.load_from_string(artifact)
    onnx.helper.set_model_props(model, identity(version))
    artifact = model.SerializeToString()
    path = directory / f"model-{version}.onnx"
    path.write_bytes(artifact)
    card["version"] = version
    card["artifacts"] = {
        "onnx": {"file": path.name, "sha256": hashlib.sha256(artifact).hexdigest()}
    }
    card["metrics"] |= metrics
    path.with_suffix(".json").write_text(json.dumps(card, indent=2))
    return path


def constant_model(directory: Path, version: str = "v8") -> Path:
    housing = pd.read_csv(MODEL_DATA / "housing.csv")
    features = housing[FEATURES].to_numpy(dtype=np.float64)
    model = LinearRegression().fit(features, housing["MEDV"])
    model.coef_[:] = 0.0
    model.intercept_ = np.float64(housing["MEDV"].mean())
    errors = model.intercept_ - pd.read_csv(REFERENCE)["MEDV"].to_numpy()
    honest = {"rmse": float(np.sqrt(np.mean(errors**2))), "mae": float(np.mean(np.abs(errors)))}
    artifact = to_onnx(model, features[:1]).SerializeToString()
    return write_model(directory, version, artifact, "v1", **honest)


def model_failing_on_unseen_inputs(directory: Path, version: str = "v9") -> Path:
    graph = onnx.load(MODEL_DATA / "model-v2.onnx")
    (features,), (output,) = graph.graph.input, graph.graph.output
    output.name, inner = "price", output.name
    column = {name: index for index, name in enumerate(FEATURES)}
    constants = {
        "rm_index": ([column["RM"]], TensorProto.INT64),
        "lstat_index": ([column["LSTAT"]], TensorProto.INT64),
        "big": ([6.9], TensorProto.DOUBLE),
        "poor": ([18.5], TensorProto.DOUBLE),
        "nan": ([float("nan")], TensorProto.FLOAT),
        "zero": ([0.0], TensorProto.FLOAT),
    }
    graph.graph.initializer.extend(
        helper.make_tensor(name, kind, [1], values) for name, (values, kind) in constants.items()
    )
    graph.graph.node.extend(
        [
            helper.make_node("Gather", [features.name, "rm_index"], ["rm"], axis=1),
            helper.make_node("Gather", [features.name, "lstat_index"], ["lstat"], axis=1),
            helper.make_node("Greater", ["rm", "big"], ["is_big"]),
            helper.make_node("Greater", ["lstat", "poor"], ["is_poor"]),
            helper.make_node("And", ["is_big", "is_poor"], ["unseen"]),
            helper.make_node("Where", ["unseen", "nan", "zero"], ["broken"]),
            helper.make_node("Add", [inner, "broken"], ["price"]),
        ]
    )
    onnx.checker.check_model(graph)
    return write_model(directory, version, graph.SerializeToString(), "v2")


def model_pricing_unseen_inputs_higher(directory: Path, version: str = "v7") -> Path:
    graph = onnx.load(MODEL_DATA / "model-v1.onnx")
    (features,), (output,) = graph.graph.input, graph.graph.output
    output.name, inner = "price", output.name
    constants = {
        "tax_index": ([FEATURES.index("TAX")], TensorProto.INT64),
        "same": ([1.0], TensorProto.FLOAT),
        "higher": ([1.3], TensorProto.FLOAT),
    }
    graph.graph.initializer.extend(
        helper.make_tensor(name, kind, [1], values) for name, (values, kind) in constants.items()
    )
    graph.graph.node.extend(
        [
            helper.make_node("Gather", [features.name, "tax_index"], ["tax"], axis=1),
            helper.make_node("Floor", ["tax"], ["whole_tax"]),
            helper.make_node("Equal", ["tax", "whole_tax"], ["seen"]),
            helper.make_node("Where", ["seen", "same", "higher"], ["factor"]),
            helper.make_node("Mul", [inner, "factor"], ["price"]),
        ]
    )
    onnx.checker.check_model(graph)
    return write_model(directory, version, graph.SerializeToString(), "v1")
