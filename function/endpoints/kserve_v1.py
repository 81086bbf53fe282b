"""KServe's V1 protocol: ``{"instances": [...]}`` in, ``{"predictions": [...]}`` out, the model
list and model readiness. (Its server liveness, ``GET /``, shares the path of the try-it page:
``function.endpoints.service``.)"""

from flask import Blueprint, Response

from ..dataplane import MODEL
from ..errors import InvalidInput
from .shared import needs_model, plane, read_json, respond

kserve_v1 = Blueprint("kserve_v1", __name__)


@kserve_v1.post(f"/v1/models/{MODEL}:predict")
@needs_model
def predict() -> Response:
    payload = read_json()
    if not isinstance(payload, dict) or "instances" not in payload:
        raise InvalidInput('expected an object with "instances": a list of rows')
    served = plane()
    return respond(
        {"predictions": served.predict(served.schema.from_instances(payload["instances"]))}
    )


@kserve_v1.get(f"/v1/models/{MODEL}")
@needs_model
def model_ready() -> Response:
    return respond({"name": MODEL, "ready": True})


@kserve_v1.get("/v1/models")
def models() -> Response:
    return respond({"models": [MODEL]})
