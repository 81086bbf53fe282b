"""The Flask app: settings, model, error handlers, metrics and endpoints put together."""

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from .config import Settings
from .dataplane import DataPlane
from .endpoints import register_endpoints
from .errors import register_error_handlers
from .features import FeatureSchema
from .metrics import Metrics, WSGIApp
from .model import Model


def build_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` overrides fields of the environment's ``Settings``.

    The model is loaded and verified here. If that fails the app still starts, but stays not
    ready (503 with the reason), as Knative expects of a revision that cannot serve.
    """
    settings = dataclasses.replace(Settings.from_env(), **(config or {}))
    model = Model(settings.model_path).load()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["READ_TIMEOUT_SECONDS"] = settings.read_timeout
    metrics = Metrics(model, settings.revision)
    schema = FeatureSchema(model.feature_names, settings.max_batch_rows)
    register_error_handlers(app)
    register_endpoints(app, DataPlane(model, schema, metrics, settings))
    metrics.install(app)
    app.wsgi_app = who_answered(app.wsgi_app, who_answers(model.version, settings))
    return app


def who_answers(model_version: str, settings: Settings) -> list[tuple[str, str]]:
    """The headers naming the model version, the Knative revision and (if revealed) the pod."""
    stamp = [("X-Model-Version", model_version), ("X-Revision", settings.revision)]
    return stamp + [("X-Pod", settings.pod_name)] if settings.pod_name else stamp


def who_answered(wsgi_app: WSGIApp, stamp: list[tuple[str, str]]) -> WSGIApp:
    """Put ``stamp`` (``who_answers``) on every response."""

    def stamped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, headers + stamp, exc_info)

        return wsgi_app(environ, start)

    return stamped
