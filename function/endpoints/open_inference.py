"""The Open Inference Protocol (KServe V2) endpoints: infer, model metadata and readiness, server
metadata and health, each model path also under ``/versions/<version>``. Tensors are decoded
and encoded by ``function.v2``."""

from collections.abc import Mapping

from flask import Blueprint, Response

from .. import v2
from ..dataplane import MODEL, DataPlane
from .service import live, ready
from .shared import answer, mimetype, needs_model, plane, require_json, respond

MODEL_PATH = f"/v2/models/{MODEL}"
VERSION_PATH = f"{MODEL_PATH}/versions/<version>"
INFER, VERSION_INFER = f"{MODEL_PATH}/infer", f"{VERSION_PATH}/infer"
LENGTH = v2.LENGTH_HEADER.lower()  # handlers get headers by lowercase name

open_inference = Blueprint("open_inference", __name__)


def handle(
    served: DataPlane, body: bytes, headers: Mapping[str, str]
) -> tuple[bytes, dict[str, str]]:
    length = headers.get(LENGTH)
    if length is None and mimetype(headers):  # V2 clients may send JSON with no content type
        require_json(headers)
    matrix, request_id, binary = v2.decode_request(body, length, served.schema)
    return v2.encode_response(served.predict(matrix), served.model.card, request_id, binary)


@open_inference.post(INFER)
@open_inference.post(VERSION_INFER)
@needs_model
def infer() -> Response:
    return answer(handle)


@open_inference.get(MODEL_PATH)
@open_inference.get(VERSION_PATH)
@needs_model
def model_metadata() -> Response:
    return respond(v2.metadata(plane().model.card))


@open_inference.get(f"{MODEL_PATH}/ready")
@open_inference.get(f"{VERSION_PATH}/ready")
@needs_model
def model_ready() -> Response:
    return respond({"name": MODEL, "ready": True})


@open_inference.get("/v2", strict_slashes=False)  # "/v2/" too
def server_metadata() -> Response:
    version = plane().model.version
    return respond({"name": MODEL, "version": version, "extensions": ["binary_tensor_data"]})


open_inference.add_url_rule("/v2/health/live", view_func=live)
open_inference.add_url_rule("/v2/health/ready", view_func=ready)
