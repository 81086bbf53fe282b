"""Errors that carry their HTTP status, and the handlers that turn every error into JSON."""

from flask import current_app, jsonify
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge


class PredictorError(Exception):
    """Base error: ``str(exc)`` is the message the client reads."""

    status = 500


class InvalidInput(PredictorError):
    status = 400


class PayloadTooLarge(PredictorError):
    status = 413


class UnsupportedMediaType(PredictorError):
    status = 415


class ModelNotReady(PredictorError):
    status = 503


class ModelFailed(PredictorError):
    """The model, not the request, is at fault: a 500 that counts as the revision's error."""

    status = 500


def register_error_handlers(app):
    @app.errorhandler(PredictorError)
    def predictor_error(exc):
        return jsonify(error=str(exc)), exc.status

    @app.errorhandler(RequestEntityTooLarge)
    def body_too_large(exc):
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        return jsonify(error=f"request body over {limit} bytes (MAX_BODY_BYTES)"), 413

    @app.errorhandler(HTTPException)
    def http_error(exc):
        return jsonify(error=exc.description), exc.code

    @app.errorhandler(Exception)
    def unexpected_error(exc):
        app.logger.exception("unexpected error")
        return jsonify(error="internal error; see the server log"), 500
