"""Request rows drawn from the feature ranges of a model card."""

import json
import random
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Feature:
    name: str
    low: float
    high: float

    def __post_init__(self) -> None:
        if not self.low <= self.high:
            raise ValueError(f"feature {self.name}: min {self.low} is above max {self.high}")

    def draw(self, rng: random.Random) -> float:
        """A value in [low, high]; whole-number bounds (CHAS, TAX) give whole numbers."""
        if self.low.is_integer() and self.high.is_integer():
            return rng.randint(int(self.low), int(self.high))
        return round(rng.uniform(self.low, self.high), 3)


class RowSampler:
    """Draws rows ({feature: value}, in the card's feature order) inside the card's ranges."""

    def __init__(self, features: list[Feature], rng: random.Random | None = None) -> None:
        if not features:
            raise ValueError("the model card lists no features")
        self.features = features
        self.rng = rng or random.Random()

    @classmethod
    def from_card(cls, path: str | Path, rng: random.Random | None = None) -> "RowSampler":
        try:
            card = json.loads(Path(path).read_text())
            features = [
                Feature(item["name"], float(item["min"]), float(item["max"]))
                for item in card["features"]
            ]
        except FileNotFoundError:
            raise ValueError(f"model card {path} not found (run `make train`?)") from None
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(
                f"model card {path} has no valid features[].name/min/max: {error!r}"
            ) from None
        return cls(features, rng)

    @property
    def names(self) -> list[str]:
        return [feature.name for feature in self.features]

    def rows(self, count: int) -> list[dict[str, float]]:
        return [{f.name: f.draw(self.rng) for f in self.features} for _ in range(count)]
