"""HTTP endpoints: thin views that decode, predict and encode."""

import functools

from flask import request

from . import events, page, v2
from .errors import InvalidInput, ModelNotReady, UnsupportedMediaType
from .jsonio import as_floats, dump_json, parse_json

MODEL = "house-price"


def register_routes(app, model, schema, metrics, settings):
    def predict(matrix):
        predictions = model.predict(matrix)
        metrics.rows.inc(len(predictions))
        return predictions

    def respond(payload, status=200):
        return app.response_class(dump_json(payload), status, mimetype="application/json")

    def needs_model(view):
        """Answer 503 with the reason until the model is loaded and verified."""

        @functools.wraps(view)
        def guarded():
            if not model.ready:
                raise ModelNotReady(f"model not ready: {model.error}")
            return view()

        return guarded

    @app.post("/predict")
    @needs_model
    def predict_rows():
        return respond({"prediction": predict(schema.from_rows(read_json()))})

    @app.post(f"/v1/models/{MODEL}:predict")
    @needs_model
    def predict_v1():
        payload = read_json()
        if not isinstance(payload, dict) or "instances" not in payload:
            raise InvalidInput('expected an object with "instances": a list of rows')
        return respond({"predictions": predict(schema.from_instances(payload["instances"]))})

    @app.get(f"/v1/models/{MODEL}")
    @needs_model
    def model_status_v1():
        return respond({"name": MODEL, "ready": True})

    @app.post(f"/v2/models/{MODEL}/infer")
    @needs_model
    def infer_v2():
        length = request.headers.get(v2.LENGTH_HEADER)
        if length is None and request.mimetype:  # V2 clients may send JSON with no content type
            require_json()
        matrix, request_id, binary = v2.decode_request(request.get_data(), length, schema)
        body, headers = v2.encode_response(predict(matrix), model.card, request_id, binary)
        return app.response_class(body, 200, headers)

    @app.get(f"/v2/models/{MODEL}")
    @needs_model
    def metadata_v2():
        return respond(v2.metadata(model.card))

    @app.get(f"/v2/models/{MODEL}/ready")
    @app.get("/v2/health/ready")
    @app.get("/readyz")
    @needs_model
    def ready():
        return respond({"ready": True, "model_version": model.version})

    @app.get("/v2/health/live")
    @app.get("/healthz")
    def live():
        return respond({"live": True})

    @app.get("/v2")
    def server_metadata_v2():
        return respond(
            {"name": MODEL, "version": model.version, "extensions": ["binary_tensor_data"]}
        )

    page_body, page_headers = page.render(model.card, settings.revision, model.error)

    @app.get("/")
    def home():
        """People get the try-it page; API clients get KServe's V1 liveness answer."""
        if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
            return app.response_class(page_body, 200, page_headers, mimetype="text/html")
        return respond({"status": "alive"}), {"Vary": "Accept"}

    @app.post("/")
    @needs_model
    def cloud_event():
        event, binary = events.read_event(request.headers, request.get_data())
        data = {
            "prediction": as_floats(predict(schema.from_rows(event.get_data()))),
            "model_version": model.version,
        }
        headers, body = events.reply(data, settings.revision, binary)
        return app.response_class(body, 200, headers)


def require_json():
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            f"Content-Type must be application/json, got {request.mimetype or 'none'}"
        )


def read_json():
    require_json()
    return parse_json(request.get_data())
