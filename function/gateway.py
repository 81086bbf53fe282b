"""The Flask (WSGI) app served over granian's RSGI interface, each body read ahead of it.

Under WSGI, granian hands the app a body stream that the one Python thread reads: a client that
sent its body slowly, or never, held every other request. Under RSGI the body arrives on
granian's I/O threads while the Python thread serves the others (``function.body``); the app is
called only once the whole body is in memory, so it never waits on a client.
"""

import io
import sys
from typing import Any

from flask import Flask, request
from granian.rsgi import HTTPProtocol, Scope

from .body import read_body
from .errors import PredictorError

# The environ key holding (error class, message) when the body could not be read.
BODY_ERROR = "house_price.body_error"
NOT_PASSED_ON = frozenset({"content-length", "content-encoding", "transfer-encoding"})


class Gateway:
    """An RSGI app (``__rsgi__``) around a Flask app; limits come from the app's config."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.max_bytes = app.config["MAX_CONTENT_LENGTH"]
        self.timeout = app.config["READ_TIMEOUT_SECONDS"]
        app.before_request(raise_body_error)

    async def __rsgi__(self, scope: Scope, proto: HTTPProtocol) -> None:
        try:
            body, error = await read_body(proto, scope.headers, self.max_bytes, self.timeout), None
        except PredictorError as exc:
            # Its class and message, not the exception: its traceback holds ``proto``, and with it
            # the unread body, which keeps the connection open until the garbage collector runs.
            body, error = b"", (type(exc), str(exc))
        status, headers, content = self._call(_environ(scope, body, error))
        if error:  # the rest of the body may be unread: this connection cannot carry another
            headers.append(("Connection", "close"))
        proto.response_bytes(status, headers, content)

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


def raise_body_error() -> None:
    """Answer a body the gateway could not read with the app's own error response."""
    error = request.environ.get(BODY_ERROR)
    if error is not None:
        kind, message = error
        raise kind(message)


def _environ(
    scope: Scope, body: bytes, error: tuple[type[PredictorError], str] | None
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
        BODY_ERROR: error,
    }
    for name, value in scope.headers.items():
        if name in NOT_PASSED_ON:
            continue
        key = "CONTENT_TYPE" if name == "content-type" else f"HTTP_{name.upper().replace('-', '_')}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ
