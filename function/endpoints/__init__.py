"""The HTTP endpoints, one blueprint per protocol, each thin over the data plane: decode,
predict, encode.

- ``records``: the original service's pandas JSON and records, ``POST /predict``
- ``kserve_v1``: KServe V1, ``/v1/models`` and ``/v1/models/house-price[:predict]``
- ``open_inference``: Open Inference Protocol (V2), ``/v2``, ``/v2/health/*``, ``/v2/models/...``
- ``cloudevents``: CloudEvents (Knative Eventing), ``POST /``
- ``service``: health, readiness and the try-it page, ``/healthz``, ``/readyz``, ``GET /``
"""

from flask import Flask

from .. import page
from ..dataplane import DataPlane
from .cloudevents import cloudevents
from .kserve_v1 import PREDICT, kserve_v1
from .kserve_v1 import handle as predict_v1
from .open_inference import INFER, VERSION_INFER, open_inference
from .open_inference import handle as infer_v2
from .records import handle as predict_records
from .records import records
from .service import PAGE, service
from .shared import PLANE, Handler

BLUEPRINTS = (records, kserve_v1, open_inference, cloudevents, service)
# The prediction endpoints that the gateway also answers without Flask (``function.gateway``),
# by their URL rule, with the handler their views call.
PREDICTIONS: dict[str, Handler] = {
    "/predict": predict_records,
    PREDICT: predict_v1,
    INFER: infer_v2,
    VERSION_INFER: infer_v2,
}


def register_endpoints(app: Flask, plane: DataPlane) -> None:
    """Serve every protocol's endpoints from ``plane``; the page is rendered once, here."""
    app.extensions[PLANE] = plane
    model = plane.model
    app.extensions[PAGE] = page.render(model.card, plane.settings.revision, model.error)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
