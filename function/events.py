"""CloudEvents in and out (binary and structured mode), so a Knative trigger can call the model.

Request:  type ``house-price.predict.request``, data = any body ``POST /predict`` accepts.
Reply:    type ``house-price.predict.response``, source ``/house-price/<revision>``,
          data ``{"prediction": [...], "model_version": "v1"}``, same content mode as the request.
"""

from collections.abc import Mapping
from typing import Any

from cloudevents.core.bindings.http import (
    HTTPMessage,
    from_http_event,
    to_binary_event,
    to_structured_event,
)
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.v1.event import CloudEvent

from .errors import InvalidInput, UnsupportedMediaType
from .jsonio import parse_json

REQUEST_TYPE = "house-price.predict.request"
RESPONSE_TYPE = "house-price.predict.response"
RESPONSE_SCHEMA = "urn:house-price:predict-response:1"
REQUIRED = ("specversion", "id", "source", "type")
# Context attributes that the JSON format carries as strings (CloudEvents 1.0 JSON format, 2.2)
STRINGS = (*REQUIRED, "datacontenttype", "dataschema", "subject", "time")
STRUCTURED = "application/cloudevents+json"


def read_event(headers: Mapping[str, str], body: bytes) -> tuple[CloudEvent, bool]:
    """Return (request event, whether it came in binary mode); reject anything malformed."""
    headers = {key.lower(): value for key, value in headers.items()}
    binary = any(key.startswith("ce-") for key in headers)
    if binary:
        missing = [name for name in REQUIRED if f"ce-{name}" not in headers]
    elif headers.get("content-type", "").startswith(STRUCTURED):
        envelope = parse_json(body)
        if not isinstance(envelope, dict):
            raise InvalidInput("malformed CloudEvent: a structured event must be a JSON object")
        missing = [name for name in REQUIRED if name not in envelope]
        wrong = [name for name in STRINGS if name in envelope and type(envelope[name]) is not str]
        if wrong:
            raise InvalidInput(f"malformed CloudEvent: {', '.join(wrong)} must be a string")
    else:
        raise UnsupportedMediaType(
            f"POST / takes a CloudEvent: ce-* headers (binary mode) or Content-Type {STRUCTURED}"
        )
    if missing:
        raise InvalidInput(f"malformed CloudEvent: missing attribute(s) {', '.join(missing)}")
    try:
        event = from_http_event(HTTPMessage(headers=headers, body=body))
    except (BaseCloudEventException, ValueError, TypeError, RecursionError) as exc:
        raise InvalidInput(f"malformed CloudEvent: {exc}") from None
    if event.get_type() != REQUEST_TYPE:
        raise InvalidInput(f"unsupported event type {event.get_type()!r}; send {REQUEST_TYPE!r}")
    if not isinstance(event.get_data(), dict | list):
        raise InvalidInput("event data must be JSON rows, as POST /predict takes")
    return event, binary


def reply(data: dict[str, Any], revision: str, binary: bool) -> tuple[dict[str, str], bytes]:
    """The reply event as (headers, body)."""
    event = CloudEvent(
        attributes={
            "type": RESPONSE_TYPE,
            "source": f"/house-price/{revision}",
            "datacontenttype": "application/json",
            "dataschema": RESPONSE_SCHEMA,
        },
        data=data,
    )
    message = to_binary_event(event) if binary else to_structured_event(event)
    return message.headers, message.body
