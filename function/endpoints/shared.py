"""What the endpoints of every protocol share: the app's data plane, JSON answers and bodies,
and the readiness guard."""

import functools
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request
from werkzeug.exceptions import NotFound

from ..dataplane import MODEL, DataPlane
from ..errors import ModelNotReady, UnsupportedMediaType
from ..jsonio import dump_json, parse_json

PLANE = "house_price"  # the app's DataPlane in app.extensions


def plane() -> DataPlane:
    return current_app.extensions[PLANE]


def respond(payload: Any, status: int = 200) -> Response:
    return current_app.response_class(dump_json(payload), status, mimetype="application/json")


def needs_model(view: Callable[[], Response]) -> Callable[..., Response]:
    """Answer 503 with the reason until the model is loaded and verified; then, on V2's
    optional ``/versions/<version>`` paths, 404 for any version but the one served."""

    @functools.wraps(view)
    def guarded(version: str | None = None) -> Response:
        model = plane().model
        if not model.ready:
            raise ModelNotReady(f"model not ready: {model.error}")
        if version is not None and version != model.version:
            raise NotFound(
                f"model {MODEL} version {version} is not served here, only {model.version}"
            )
        return view()

    return guarded


def require_json() -> None:
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            f"Content-Type must be application/json, got {request.mimetype or 'none'}"
        )


def read_json() -> Any:
    require_json()
    return parse_json(request.get_data())
