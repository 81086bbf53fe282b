"""What the endpoints of every protocol share: the app's data plane, JSON answers and bodies,
the readiness guard, and the form of a prediction handler.

A prediction handler turns a request body and its headers into the answer's body and headers,
or raises the client's error. Its Flask view calls it (``answer``), and so does the gateway's
lean path (``function.gateway``), which answers the same endpoints without Flask: one piece of
code per protocol, whichever path a request takes.
"""

import functools
from collections.abc import Callable, Mapping
from typing import Any

from flask import Response, current_app, request
from werkzeug.exceptions import NotFound
from werkzeug.http import parse_options_header

from ..dataplane import MODEL, DataPlane
from ..errors import ModelNotReady, UnsupportedMediaType
from ..jsonio import dump_json, parse_json

PLANE = "house_price"  # the app's DataPlane in app.extensions
JSON = "application/json"
# (plane, body, headers by lowercase name) -> (body, headers) of a 200, or the client's error
Handler = Callable[[DataPlane, bytes, Mapping[str, str]], tuple[bytes, dict[str, str]]]


def plane() -> DataPlane:
    return current_app.extensions[PLANE]


def respond(payload: Any, status: int = 200) -> Response:
    return current_app.response_class(dump_json(payload), status, mimetype=JSON)


def answer(handle: Handler) -> Response:
    """The Flask response of a prediction handler to the request being served."""
    body, headers = handle(plane(), request.get_data(), request.headers)
    return current_app.response_class(body, 200, headers)


def json_answer(payload: Any) -> tuple[bytes, dict[str, str]]:
    """A handler's JSON answer."""
    return dump_json(payload), {"Content-Type": JSON}


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


def mimetype(headers: Mapping[str, str]) -> str:
    """The request's media type, lowercase and without parameters, as Werkzeug reads it."""
    content_type = headers.get("content-type", "")
    return content_type if content_type == JSON else parse_options_header(content_type)[0].lower()


def require_json(headers: Mapping[str, str]) -> None:
    if (kind := mimetype(headers)) != JSON:
        raise UnsupportedMediaType(f"Content-Type must be application/json, got {kind or 'none'}")


def read_json(body: bytes, headers: Mapping[str, str]) -> Any:
    require_json(headers)
    return parse_json(body)
