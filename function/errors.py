"""Errors that carry their HTTP status, and the handlers that turn every error into JSON."""

import traceback

from flask import Flask, Response, current_app, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge


class PredictorError(Exception):
    """Base error: ``str(exc)`` is the message the client reads."""

    status = 500


class InvalidInput(PredictorError):
    status = 400


class RequestTimeout(PredictorError):
    status = 408


class PayloadTooLarge(PredictorError):
    status = 413


class UnsupportedMediaType(PredictorError):
    status = 415


class ModelNotReady(PredictorError):
    status = 503


class ModelFailed(PredictorError):
    """The model, not the request, is at fault: a 500 that counts as the revision's error."""

    status = 500


def register_error_handlers(app: Flask) -> None:
    logged = set()  # where the unexpected errors logged so far were raised

    @app.errorhandler(PredictorError)
    def predictor_error(exc: PredictorError) -> ResponseReturnValue:
        return jsonify(error=str(exc)), exc.status

    @app.errorhandler(RequestEntityTooLarge)
    def body_too_large(exc: RequestEntityTooLarge) -> ResponseReturnValue:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        return jsonify(error=f"request body over {limit} bytes (MAX_BODY_BYTES)"), 413

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        response = jsonify(error=exc.description)
        response.status_code = exc.code
        # The headers its status needs, such as Allow on a 405 (RFC 9110 15.5.6)
        response.headers.extend(h for h in exc.get_headers() if h[0] != "Content-Type")
        return response

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception) -> ResponseReturnValue:
        # One traceback per place it was raised: a client repeating the request that found a
        # bug must not be able to flood the log (the 500s are still counted in /metrics).
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        site = (type(exc), frame.filename, frame.lineno)
        if site not in logged:
            logged.add(site)
            app.logger.exception("unexpected error (logged once for this place)")
        return jsonify(error="internal error; see the server log"), 500
