"""CloudEvents at ``POST /``, binary or structured mode, as a Knative Eventing trigger sends them;
the events themselves are read and written by ``function.events``."""

from flask import Blueprint, Response, current_app, request

from ..jsonio import as_floats
from .shared import needs_model, plane

cloudevents = Blueprint("cloudevents", __name__)


@cloudevents.post("/")
@needs_model
def predict() -> Response:
    from .. import events  # here: the CloudEvents SDK and dateutil add ~10 ms to every start

    event, binary = events.read_event(request.headers, request.get_data())
    served = plane()
    data = {
        "prediction": as_floats(served.predict(served.schema.from_rows(event.get_data()))),
        "model_version": served.model.version,
    }
    headers, body = events.reply(data, served.settings.revision, binary)
    return current_app.response_class(body, 200, headers)
