"""The service's own endpoints: liveness, readiness, and ``GET /``, where people get the try-it
page and API clients KServe V1's server liveness."""

from flask import Blueprint, Response, current_app, request

from .shared import needs_model, plane, respond

PAGE = "house_price.page"  # (body, headers) of the try-it page in app.extensions

service = Blueprint("service", __name__)


@service.get("/healthz")
def live() -> Response:
    return respond({"live": True})


@service.get("/readyz")
@needs_model
def ready() -> Response:
    return respond({"ready": True, "model_version": plane().model.version})


@service.get("/")
def home() -> Response:
    """People get the try-it page; API clients get KServe's V1 liveness answer."""
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
        body, headers = current_app.extensions[PAGE]
        return current_app.response_class(body, 200, headers, mimetype="text/html")
    response = respond({"status": "alive"})
    response.headers["Vary"] = "Accept"
    return response
