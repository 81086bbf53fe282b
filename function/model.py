"""The served model: a verified artifact in an ONNX Runtime session, with a self-check."""

import logging
from pathlib import Path

import numpy as np
import onnxruntime

from .artifact import ArtifactError, read_verified
from .errors import ModelFailed, ModelNotReady

log = logging.getLogger(__name__)


class Model:
    """A verified model: ``ready`` only once loaded and checked; ``error`` says why not."""

    def __init__(self, path):
        self.path = Path(path)
        self.card = {}
        self.error = "model not loaded"
        self._session = None

    @property
    def ready(self):
        return self._session is not None

    @property
    def version(self):
        return self.card.get("version", "unknown")

    @property
    def feature_names(self):
        return [feature["name"] for feature in self.card.get("features", [])]

    def load(self):
        """Verify and load the artifact; on failure stay not ready and keep the reason."""
        try:
            card, artifact = read_verified(self.path)
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = options.inter_op_num_threads = 1
            session = onnxruntime.InferenceSession(
                artifact, options, providers=["CPUExecutionProvider"]
            )
            self._check(session, card)
        except Exception as exc:  # onnxruntime's errors share no base class but Exception
            self.error = str(exc)
            log.error("model not ready: %s", self.error)
            return self
        self.card, self.error = card, None
        self._input = session.get_inputs()[0].name
        self._session = session
        log.info("model %s %s ready (%s)", card["name"], card["version"], self.path)
        return self

    @staticmethod
    def _check(session, card):
        """One prediction on the training minimums must give one finite number."""
        row = np.array([[feature["min"] for feature in card["features"]]], dtype=np.float64)
        output = session.run(None, {session.get_inputs()[0].name: row})[0]
        if output.size != 1 or not np.isfinite(output).all():
            raise ArtifactError(f"model self-check gave {output!r}, expected one finite number")

    def predict(self, matrix):
        """Predictions (float32, one per row) for a float64 matrix of shape [N, features].

        A non-finite prediction is the model's failure, answered 500, never a JSON ``null``.
        """
        if self._session is None:
            raise ModelNotReady(f"model not ready: {self.error}")
        predictions = self._session.run(None, {self._input: matrix})[0].ravel()
        finite = np.isfinite(predictions)
        if not finite.all():
            rows = np.flatnonzero(~finite)
            log.error("model %s gave non-finite predictions for rows %s", self.version, rows[:10])
            raise ModelFailed(
                f"the model gave a non-finite prediction for {rows.size} of {finite.size} rows "
                f"(first: row {rows[0]})"
            )
        return predictions
