"""The original service's contract: ``POST /predict`` with pandas "columns" JSON, a list of
records or one record; answers ``{"prediction": [...]}``."""

from flask import Blueprint, Response

from .shared import needs_model, plane, read_json, respond

records = Blueprint("records", __name__)


@records.post("/predict")
@needs_model
def predict() -> Response:
    served = plane()
    return respond({"prediction": served.predict(served.schema.from_rows(read_json()))})
