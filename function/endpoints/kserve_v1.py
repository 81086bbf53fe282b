"""KServe's V1 protocol: ``{"instances": [...]}`` in, ``{"predictions": [...]}`` out, the model
list and model readiness. (Its server liveness, ``GET /``, shares the path of the try-it page:
``function.endpoints.service``.)"""

from collections.abc import Mapping

from flask import Blueprint, Response

from ..dataplane import MODEL, DataPlane
from ..errors import InvalidInput
from .shared import answer, json_answer, needs_model, read_json, respond

kserve_v1 = Blueprint("kserve_v1", __name__)
PREDICT = f"/v1/models/{MODEL}:predict"


def handle(
    served: DataPlane, body: bytes, headers: Mapping[str, str]
) -> tuple[bytes, dict[str, str]]:
    payload = read_json(body, headers)
    if not isinstance(payload, dict) or "instances" not in payload:
        raise InvalidInput('expected an object with "instances": a list of rows')
    rows = served.schema.from_instances(payload["instances"])
    return json_answer({"predictions": served.predict(rows)})


@kserve_v1.post(PREDICT)
@needs_model
def predict() -> Response:
    return answer(handle)


@kserve_v1.get(f"/v1/models/{MODEL}")
@needs_model
def model_ready() -> Response:
    return respond({"name": MODEL, "ready": True})


@kserve_v1.get("/v1/models")
def models() -> Response:
    return respond({"models": [MODEL]})
