"""The candidate's model card and the labelled reference rows it was measured on, from model_data/.

Training writes both (``make train``): the card names the reference rows with their sha256, so
the rows sent to the revisions are the very rows behind the card's RMSE and MAE.
"""

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from knative.errors import RolloutError

MODEL_DATA = Path(__file__).resolve().parents[2] / "model_data"
SANITY_ROWS = 5  # reference rows on which each feature is moved across its training range


@dataclass(frozen=True)
class Feature:
    name: str
    low: float
    high: float
    used: bool


@dataclass(frozen=True)
class Reference:
    """A model version's card metrics and its reference rows (records in API feature order)."""

    version: str
    rmse: float
    mae: float
    features: list[Feature]
    rows: list[dict]
    labels: list[float]

    def moved(self, feature: Feature) -> tuple[list[dict], list[dict]]:
        """The first ``SANITY_ROWS`` rows with ``feature`` at its training low, and at its high."""
        rows = self.rows[:SANITY_ROWS]
        return (
            [row | {feature.name: feature.low} for row in rows],
            [row | {feature.name: feature.high} for row in rows],
        )


def load(model_data: Path, version: str) -> Reference:
    """The card ``model-<version>.json`` and the reference rows it names, checked by sha256."""
    card_path = model_data / f"model-{version}.json"
    try:
        card = json.loads(card_path.read_text())
        named = card["metrics"]["reference_rows"]
        features = [
            Feature(f["name"], float(f["min"]), float(f["max"]), f.get("used", True))
            for f in card["features"]
        ]
        target = card["target"]["name"]
        rmse, mae = float(card["metrics"]["rmse"]), float(card["metrics"]["mae"])
    except OSError as exc:
        raise RolloutError(
            f"no model card for the candidate's model {version}: {card_path}: {exc.strerror} "
            "(--model-data names the folder with the cards and reference rows)"
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise RolloutError(f"model card {card_path} lacks what the gate needs: {exc!r}") from None
    rows_path = model_data / named["file"]
    try:
        data = rows_path.read_bytes()
    except OSError as exc:
        raise RolloutError(f"cannot read the reference rows {rows_path}: {exc.strerror}") from None
    if hashlib.sha256(data).hexdigest() != named["sha256"]:
        raise RolloutError(
            f"{rows_path} is not the file card {card_path.name} names (sha256 differs); "
            "run `make train` or restore it"
        )
    rows, labels = _parse(data.decode(), [f.name for f in features], target, rows_path)
    return Reference(version, rmse, mae, features, rows, labels)


def _parse(text: str, names: list[str], target: str, path: Path) -> tuple[list[dict], list[float]]:
    rows, labels = [], []
    try:
        for record in csv.DictReader(text.splitlines()):
            rows.append({name: float(record[name]) for name in names})
            labels.append(float(record[target]))
    except (KeyError, TypeError, ValueError) as exc:
        raise RolloutError(f"{path} is not a CSV of {', '.join(names)}, {target}: {exc}") from None
    if not rows:
        raise RolloutError(f"{path} holds no rows")
    return rows, labels
