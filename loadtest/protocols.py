"""The predictor's request formats: encode rows into a request, decode the predictions."""

import json
import math
from collections.abc import Mapping

import numpy as np
import tritonclient.http as oip
from cloudevents.core.bindings import http as cloudevents_http
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.v1.event import CloudEvent
from tritonclient.utils import InferenceServerException

JSON = {"Content-Type": "application/json"}
MALFORMED = (ValueError, KeyError, TypeError, IndexError)


class BadReply(ValueError):
    """A reply that does not hold one prediction per request row."""


def pandas_columns(rows: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Rows as pandas "columns" JSON: {"CHAS": {"0": 0, "1": 1}, "RM": {...}, ...}."""
    return {name: {str(i): row[name] for i, row in enumerate(rows)} for name in rows[0]}


class Protocol:
    """One way to ask for predictions; subclasses set `path` and implement encode/decode."""

    path: str
    tag = ""  # tells requests to the same path apart in the stats

    @property
    def name(self) -> str:
        return self.path + self.tag

    errors: tuple[type[Exception], ...] = MALFORMED

    def encode(self, rows: list[dict[str, float]]) -> tuple[Mapping[str, str], bytes]:
        raise NotImplementedError

    def decode(self, headers: Mapping[str, str], body: bytes) -> list:
        raise NotImplementedError

    def predictions(self, headers: Mapping[str, str], body: bytes, rows: int) -> list[float]:
        """The reply's predictions, checked to be one finite number per row, else BadReply."""
        try:
            values = self.decode(headers, body)
        except self.errors as error:
            raise BadReply(f"undecodable reply: {error!r}: {body[:120]!r}") from None
        if len(values) != rows:
            raise BadReply(f"{len(values)} predictions for {rows} rows")
        for value in values:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise BadReply(f"prediction {value!r} is not a number")
            if not math.isfinite(value):
                raise BadReply(f"prediction {value!r} is not finite")
        return values


class PandasPredict(Protocol):
    """The original contract: POST /predict with pandas "columns" JSON."""

    path = "/predict"

    def encode(self, rows: list[dict[str, float]]) -> tuple[Mapping[str, str], bytes]:
        return JSON, json.dumps(pandas_columns(rows)).encode()

    def decode(self, headers: Mapping[str, str], body: bytes) -> list:
        return json.loads(body)["prediction"]


class OpenInferenceV2(Protocol):
    """Open Inference Protocol V2: one FP64 input of shape [rows, features]."""

    path = "/v2/models/house-price/infer"
    errors = (*MALFORMED, InferenceServerException)

    def encode(self, rows: list[dict[str, float]]) -> tuple[Mapping[str, str], bytes]:
        matrix = np.array([list(row.values()) for row in rows], dtype=np.float64)
        tensor = oip.InferInput("input-0", list(matrix.shape), "FP64")
        tensor.set_data_from_numpy(matrix, binary_data=False)
        body, _ = oip.InferenceServerClient.generate_request_body([tensor])
        return JSON, body

    def decode(self, headers: Mapping[str, str], body: bytes) -> list:
        length = headers.get("Inference-Header-Content-Length")
        result = oip.InferResult.from_response_body(
            body, header_length=int(length) if length else None
        )
        output = result.get_response()["outputs"][0]["name"]
        return result.as_numpy(output).ravel().tolist()


class CloudEventBinary(Protocol):
    """A CloudEvent in binary mode: attributes in ce-* headers, the /predict body as data."""

    path = "/"
    tag = " [cloudevent]"
    request_type = "house-price.predict.request"
    reply_type = "house-price.predict.response"
    errors = (*MALFORMED, BaseCloudEventException)

    def encode(self, rows: list[dict[str, float]]) -> tuple[Mapping[str, str], bytes]:
        event = CloudEvent(
            attributes={
                "type": self.request_type,
                "source": "/loadtest",
                "datacontenttype": "application/json",
            },
            data=pandas_columns(rows),
        )
        message = cloudevents_http.to_binary_event(event)
        return message.headers, message.body

    def decode(self, headers: Mapping[str, str], body: bytes) -> list:
        message = cloudevents_http.HTTPMessage(headers=dict(headers.items()), body=body)
        event = cloudevents_http.from_http_event(message)
        if event.get_type() != self.reply_type:
            raise ValueError(f"reply event type {event.get_type()!r}, not {self.reply_type!r}")
        return event.get_data()["prediction"]
