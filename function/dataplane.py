"""What every prediction path shares, whatever its protocol: rows in, prices out, each recorded.

Protocols decode a request into the feature matrix (``function.features``), call ``predict``,
and encode its answer; nothing here knows about HTTP or Flask.
"""

from dataclasses import dataclass

import numpy as np

from .config import Settings
from .features import FeatureSchema
from .metrics import Metrics
from .model import Model

MODEL = "house-price"  # the model's name in every protocol's paths


@dataclass(frozen=True)
class DataPlane:
    model: Model
    schema: FeatureSchema
    metrics: Metrics
    settings: Settings

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        """The model's prices (float32, one per row), counted and recorded in the histogram."""
        predictions = self.model.predict(matrix)
        self.metrics.predicted(predictions)
        return predictions
