"""The original service's contract: ``POST /predict`` with pandas "columns" JSON, a list of
records or one record; answers ``{"prediction": [...]}``."""

from collections.abc import Mapping

from flask import Blueprint, Response

from ..dataplane import DataPlane
from .shared import answer, json_answer, needs_model, read_json

records = Blueprint("records", __name__)


def handle(
    served: DataPlane, body: bytes, headers: Mapping[str, str]
) -> tuple[bytes, dict[str, str]]:
    rows = served.schema.from_rows(read_json(body, headers))
    return json_answer({"prediction": served.predict(rows)})


@records.post("/predict")
@needs_model
def predict() -> Response:
    return answer(handle)
