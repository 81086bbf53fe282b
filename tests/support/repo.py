"""Paths of the repository, and the sample row and feature list from model_data/sample-row.json."""

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODEL_DATA = REPO / "model_data"
SAMPLE_ROW = json.loads((MODEL_DATA / "sample-row.json").read_text())
FEATURES = list(SAMPLE_ROW)  # the API's feature order
