"""The floor: the same model and requests on granian and ONNX Runtime with nothing else.

``make bench`` measures it beside the predictor, in the same run, and prints each of the
predictor's figures as a ratio to it: what the stack itself can do, so that what the framework,
validation, metrics and headers cost is known. An RSGI app, one worker, one Python thread,
``orjson`` in and out, no framework, no validation and no error handling: a malformed request
raises. It is the benchmark's reference, never served by the product.

granian's own command line serves it as ``python -m function`` serves the predictor (RSGI, one
worker, single-threaded runtime, HTTP/1.1), the model at ``MODEL_PATH``
(``model_data/model-v1.onnx``, its card beside it)::

    python -m granian --interface rsgi --workers 1 --runtime-mode st --http 1 \
        --port 8080 --factory loadtest.floor:create_app
"""

import json
import os
from pathlib import Path

import numpy as np
import onnxruntime
import orjson
from granian.rsgi import HTTPProtocol, Scope

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "model_data" / "model-v1.onnx"
JSON = [("content-type", "application/json")]
MODEL = "house-price"


class Floor:
    """An RSGI app answering the predictor's prediction and health paths, happy path only."""

    def __init__(self, model_path: Path) -> None:
        card = json.loads(model_path.with_suffix(".json").read_text())
        self.names = [feature["name"] for feature in card["features"]]
        self.version = card["version"]
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        self.input = self.session.get_inputs()[0].name
        self.routes = {
            "/predict": self.records,
            f"/v1/models/{MODEL}:predict": self.v1,
            f"/v2/models/{MODEL}/infer": self.v2,
        }
        self.health = {
            "/healthz": orjson.dumps({"live": True}),
            "/readyz": orjson.dumps({"ready": True, "model_version": self.version}),
        }

    async def __rsgi__(self, scope: Scope, proto: HTTPProtocol) -> None:
        if scope.method == "GET":
            proto.response_bytes(200, JSON, self.health[scope.path])
            return
        request = orjson.loads(await proto())
        proto.response_bytes(200, JSON, self.routes[scope.path](request))

    def predict(self, rows: list) -> np.ndarray:
        return self.session.run(None, {self.input: np.array(rows, dtype=np.float64)})[0].ravel()

    def records(self, records: list) -> bytes:
        rows = [[record[name] for name in self.names] for record in records]
        return orjson.dumps({"prediction": self.predict(rows)}, option=orjson.OPT_SERIALIZE_NUMPY)

    def v1(self, request: dict) -> bytes:
        predictions = self.predict(request["instances"])
        return orjson.dumps({"predictions": predictions}, option=orjson.OPT_SERIALIZE_NUMPY)

    def v2(self, request: dict) -> bytes:
        tensor = request["inputs"][0]
        predictions = self.predict(np.reshape(tensor["data"], tensor["shape"]))
        output = {"name": "predict", "datatype": "FP32", "shape": [len(predictions), 1],
                  "data": predictions}  # fmt: skip
        response = {"model_name": MODEL, "model_version": self.version, "outputs": [output]}
        return orjson.dumps(response, option=orjson.OPT_SERIALIZE_NUMPY)


def create_app() -> Floor:
    return Floor(Path(os.environ.get("MODEL_PATH", DEFAULT_MODEL)))
