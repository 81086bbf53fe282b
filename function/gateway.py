"""The Flask (WSGI) app served over granian's RSGI interface, each body read ahead of it, and
the prediction endpoints answered on a lean path beside it.

Under WSGI, granian hands the app a body stream that the one Python thread reads: a client that
sent its body slowly, or never, held every other request. Under RSGI the body arrives on
granian's I/O threads while the Python thread serves the others (``function.body``); the app is
called only once the whole body is in memory, so it never waits on a client.

A prediction (``POST`` to an endpoint in ``function.endpoints.PREDICTIONS``) that the model is
ready for is answered here, by the handler its Flask view calls, with the same headers and
metrics: Flask's request and response objects, routing and hooks cost more than the model.
Whatever the handler refuses goes to Flask with the error, and Flask answers it as it answers
every error (``raise_gateway_error``); everything else goes to Flask as it came.
"""

import io
import sys
import time
from typing import Any

from flask import Flask, request
from granian.rsgi import Headers, HTTPProtocol, Scope

from .app import who_answers
from .body import Deadline, read_body
from .endpoints import PREDICTIONS
from .endpoints.shared import PLANE, Handler
from .errors import PredictorError

# The environ key holding (error class, message) of what the gateway refused: a body it could
# not read, or a prediction its handler refused.
GATEWAY_ERROR = "house_price.gateway_error"
NOT_PASSED_ON = frozenset({"content-length", "content-encoding", "transfer-encoding"})
Error = tuple[type[PredictorError], str]


class Gateway:
    """An RSGI app (``__rsgi__``) around a Flask app; limits come from the app's config."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.max_bytes = app.config["MAX_CONTENT_LENGTH"]
        self.deadline = Deadline(app.config["READ_TIMEOUT_SECONDS"])
        self.plane = plane = app.extensions[PLANE]
        version = plane.model.version
        self.stamp = who_answers(version, plane.settings)
        # Path -> (rule, handler); a path with a <version> takes the version served
        self.lean = {rule.replace("<version>", version): (rule, handle)
                     for rule, handle in PREDICTIONS.items()}  # fmt: skip
        app.before_request(raise_gateway_error)

    async def __rsgi__(self, scope: Scope, proto: HTTPProtocol) -> None:
        headers = joined(scope.headers)
        try:
            body = await read_body(proto, scope.headers, self.max_bytes, self.deadline)
        except PredictorError as exc:
            # Its class and message, not the exception: its traceback holds ``proto``, and with it
            # the unread body, which keeps the connection open until the garbage collector runs.
            status, reply, content = self._call(_environ(scope, headers, b"", _error(exc)))
            # The rest of the body may be unread: no other request can follow on this connection
            proto.response_bytes(status, [*reply, ("Connection", "close")], content)
            return
        error = None
        lean = self.lean.get(scope.path) if scope.method == "POST" else None
        if lean and self.plane.model.ready:
            try:
                return self._predict(proto, body, headers, *lean)
            except PredictorError as exc:
                error = _error(exc)
            except Exception:  # a bug: Flask runs the handler again and answers it as any bug
                pass
        proto.response_bytes(*self._call(_environ(scope, headers, body, error)))

    def _predict(
        self, proto: HTTPProtocol, body: bytes, headers: dict[str, str], rule: str, handle: Handler
    ) -> None:
        """Answer a prediction on the lean path, counted as the middleware counts."""
        started = time.perf_counter()
        content, reply = handle(self.plane, body, headers)
        proto.response_bytes(200, [*reply.items(), *self.stamp], content)
        self.plane.metrics.answered(rule, "prediction", "200", time.perf_counter() - started)

    def _call(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        started = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: object = None
        ) -> None:
            started[:] = [int(status[:3]), headers]

        result = self.app(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return (*started, content)


def raise_gateway_error() -> None:
    """Answer what the gateway refused with the app's own error response."""
    error = request.environ.get(GATEWAY_ERROR)
    if error is not None:
        kind, message = error
        raise kind(message)


def _error(exc: PredictorError) -> Error:
    return type(exc), str(exc)


def joined(headers: Headers) -> dict[str, str]:
    """An RSGI request's headers by lowercase name, a repeated header's values joined with
    commas, as a WSGI environ holds them."""
    values = {}
    for name, value in headers.items():
        values[name] = f"{values[name]},{value}" if name in values else value
    return values


def _environ(
    scope: Scope, headers: dict[str, str], body: bytes, error: Error | None
) -> dict[str, Any]:
    """The WSGI environ (PEP 3333) of an RSGI request, with the body already read and decoded."""
    server_name, _, server_port = scope.server.rpartition(":")
    environ = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": scope.path.encode().decode("latin-1"),  # WSGI's "bytes as latin-1" strings
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": server_name,
        "SERVER_PORT": server_port,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": scope.client.rpartition(":")[0],
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        GATEWAY_ERROR: error,
    }
    for name, value in headers.items():
        if name not in NOT_PASSED_ON:
            key = (
                "CONTENT_TYPE"
                if name == "content-type"
                else f"HTTP_{name.upper().replace('-', '_')}"
            )
            environ[key] = value
    return environ
