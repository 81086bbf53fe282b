"""The Flask app: settings, model, error handlers, metrics and routes put together."""

import dataclasses

from flask import Flask

from .config import Settings
from .errors import register_error_handlers
from .features import FeatureSchema
from .metrics import Metrics
from .model import Model
from .routes import register_routes


def build_app(config=None):
    """Build the app; ``config`` overrides fields of the environment's ``Settings``.

    The model is loaded and verified here. If that fails the app still starts, but stays not
    ready (503 with the reason), as Knative expects of a revision that cannot serve.
    """
    settings = dataclasses.replace(Settings.from_env(), **(config or {}))
    model = Model(settings.model_path).load()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    metrics = Metrics(model, settings.revision)
    schema = FeatureSchema(model.feature_names, settings.max_batch_rows)
    register_error_handlers(app)
    register_routes(app, model, schema, metrics, settings)
    metrics.install(app)
    app.wsgi_app = who_answered(app.wsgi_app, model.version, settings.revision, settings.pod_name)
    return app


def who_answered(wsgi_app, model_version, revision, pod_name=None):
    """Name the model version, the Knative revision and (if revealed) the pod on every response."""
    stamp = [("X-Model-Version", model_version), ("X-Revision", revision)]
    stamp += [("X-Pod", pod_name)] if pod_name else []

    def stamped(environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, headers + stamp, exc_info)

        return wsgi_app(environ, start)

    return stamped
