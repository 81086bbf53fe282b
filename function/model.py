"""The served model: a verified artifact in an ONNX Runtime session, with a self-check."""

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime

from .artifact import ArtifactError, read_verified
from .errors import ModelFailed, ModelNotReady
from .features import all_finite

log = logging.getLogger(__name__)


class Model:
    """A verified model: ``ready`` only once loaded and checked; ``error`` says why not."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.card: dict[str, Any] = {}
        self.error: str | None = "model not loaded"
        self._session: onnxruntime.InferenceSession | None = None

    @property
    def ready(self) -> bool:
        return self._session is not None

    @property
    def version(self) -> str:
        return self.card.get("version", "unknown")

    @property
    def feature_names(self) -> list[str]:
        return [feature["name"] for feature in self.card.get("features", [])]

    def load(self) -> "Model":
        """Verify and load the artifact; on failure stay not ready and keep the reason."""
        try:
            card, session = open_verified(self.path)
        except ArtifactError as exc:
            self.error = str(exc)
            log.error("model not ready: %s", self.error)
            return self
        self.card, self.error = card, None
        self._input = session.get_inputs()[0].name
        self._outputs = [output.name for output in session.get_outputs()]  # not for each run
        self._session = session
        log.info("model %s %s ready (%s)", card["name"], card["version"], self.path)
        return self

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        """Predictions (float32, one per row) for a float64 matrix of shape [N, features].

        A non-finite prediction is the model's failure, answered 500, never a JSON ``null``.
        """
        if self._session is None:
            raise ModelNotReady(f"model not ready: {self.error}")
        predictions = self._session.run(self._outputs, {self._input: matrix})[0].ravel()
        if not all_finite(predictions):
            finite = np.isfinite(predictions)
            rows = np.flatnonzero(~finite)
            log.error("model %s gave non-finite predictions for rows %s", self.version, rows[:10])
            raise ModelFailed(
                f"the model gave a non-finite prediction for {rows.size} of {finite.size} rows "
                f"(first: row {rows[0]})"
            )
        return predictions


def open_verified(path: str | Path) -> tuple[dict[str, Any], onnxruntime.InferenceSession]:
    """(card, session) of an artifact that matches its card's sha256, loads in ONNX Runtime,
    records the card's name, version and features, and gives one finite number for one row;
    else an ``ArtifactError`` naming the cause."""
    card, artifact = read_verified(path)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    try:
        session = onnxruntime.InferenceSession(
            artifact, options, providers=["CPUExecutionProvider"]
        )
        _check_identity(session, card)
        _check_one_row(session, card)
    except ArtifactError:
        raise
    except Exception as exc:  # onnxruntime's errors share no base class but Exception
        raise ArtifactError(f"ONNX Runtime cannot use model artifact {path}: {exc}") from None
    return card, session


def _check_identity(session: onnxruntime.InferenceSession, card: dict[str, Any]) -> None:
    """The card must name the model, its version and its features as the artifact does.

    Training writes them into the ONNX metadata, inside the bytes the card's sha256 covers:
    a card that lists the features in another order would have every price computed from
    the wrong columns.
    """
    trained = session.get_modelmeta().custom_metadata_map
    described = {
        "name": card["name"],
        "version": card["version"],
        "features": [feature["name"] for feature in card["features"]],
    }
    for key, value in described.items():
        if key not in trained:
            raise ArtifactError(f"model artifact does not record its {key}; retrain it")
        actual = json.loads(trained[key]) if key == "features" else trained[key]
        if actual != value:
            raise ArtifactError(
                f"model card gives {key} {value!r} but the artifact was trained with "
                f"{actual!r}; retrain, or restore the card"
            )


def _check_one_row(session: onnxruntime.InferenceSession, card: dict[str, Any]) -> None:
    """One prediction on the training minimums must give one finite number."""
    row = np.array([[feature["min"] for feature in card["features"]]], dtype=np.float64)
    output = session.run(None, {session.get_inputs()[0].name: row})[0]
    if output.size != 1 or not np.isfinite(output).all():
        raise ArtifactError(f"model self-check gave {output!r}, expected one finite number")
