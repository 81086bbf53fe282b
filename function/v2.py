"""Open Inference Protocol (KServe V2) infer requests and responses, JSON and binary tensors.

Standard clients (tritonclient, KServe's) send tensors as binary by default: the JSON header
is followed by raw little-endian bytes, its length in ``Inference-Header-Content-Length``.
"""

import itertools
import math
from typing import Any

import numpy as np

from .errors import InvalidInput
from .features import NUMBERS, FeatureSchema
from .jsonio import dump_json, json_type, parse_json

LENGTH_HEADER = "Inference-Header-Content-Length"
DATATYPES = {
    "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
}
OUTPUT = {"name": "predict", "datatype": "FP32"}


def decode_request(
    body: bytes, header_length: str | None, schema: FeatureSchema
) -> tuple[np.ndarray, str | None, bool]:
    """Return (feature matrix, request id or None, whether the reply should be binary)."""
    json_part, binary = _split(body, header_length)
    request = parse_json(json_part)
    if not isinstance(request, dict) or not isinstance(request.get("inputs"), list):
        raise InvalidInput('expected an object with "inputs": a list of one tensor')
    if len(request["inputs"]) != 1:
        raise InvalidInput(f"expected exactly one input tensor, got {len(request['inputs'])}")
    request_id, outputs = request.get("id"), request.get("outputs", [])
    if request_id is not None and not isinstance(request_id, str):
        raise InvalidInput(f'"id" must be a string, got {json_type(request_id)}')
    if not (isinstance(outputs, list) and all(isinstance(o, dict) for o in outputs)):
        raise InvalidInput('"outputs" must be a list of objects')
    matrix = schema.from_array(_tensor(request["inputs"][0], binary))
    wants_binary = _parameters(request).get("binary_data_output") is True or any(
        _parameters(o).get("binary_data") is True for o in outputs
    )
    return matrix, request_id, wants_binary


def encode_response(
    predictions: np.ndarray, card: dict[str, Any], request_id: str | None, binary: bool
) -> tuple[bytes, dict[str, str]]:
    """Return (body, headers) of the infer response for float32 ``predictions``."""
    output = {**OUTPUT, "shape": [len(predictions), 1]}
    response = {"model_name": card["name"], "model_version": card["version"], "outputs": [output]}
    if request_id is not None:
        response["id"] = request_id
    if not binary:
        output["data"] = predictions
        return dump_json(response), {"Content-Type": "application/json"}
    raw = predictions.astype("<f4").tobytes()
    output["parameters"] = {"binary_data_size": len(raw)}
    header = dump_json(response)
    headers = {"Content-Type": "application/octet-stream", LENGTH_HEADER: str(len(header))}
    return header + raw, headers


def metadata(card: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": card["name"],
        "versions": [card["version"]],
        "platform": "onnxruntime_onnx",
        "inputs": [{"name": "features", "datatype": "FP64", "shape": [-1, len(card["features"])]}],
        "outputs": [{**OUTPUT, "shape": [-1, 1]}],
    }


def _split(body: bytes, header_length: str | None) -> tuple[bytes, bytes]:
    if header_length is None:
        return body, b""
    try:
        length = int(header_length)
    except ValueError:
        length = -1
    if not 0 < length <= len(body):
        raise InvalidInput(f"{LENGTH_HEADER} must be between 1 and the body size {len(body)}")
    return body[:length], body[length:]


def _parameters(obj: dict[str, Any]) -> dict[str, Any]:
    parameters = obj.get("parameters")
    return parameters if isinstance(parameters, dict) else {}


def _tensor(tensor: Any, binary: bytes) -> np.ndarray:
    """The input tensor as a numeric array of its declared shape."""
    if not isinstance(tensor, dict):
        raise InvalidInput("input tensor must be an object with name, shape, datatype and data")
    datatype, shape = tensor.get("datatype"), tensor.get("shape")
    if not isinstance(datatype, str) or datatype not in DATATYPES:
        raise InvalidInput(
            f"input datatype must be one of {', '.join(DATATYPES)}, got {datatype!r}"
        )
    if not (isinstance(shape, list) and shape and all(type(d) is int and d >= 0 for d in shape)):
        raise InvalidInput(f"input shape must be a list of non-negative integers, got {shape!r}")
    size = _parameters(tensor).get("binary_data_size")
    if size is not None:
        if type(size) is not int or size != len(binary):
            raise InvalidInput(
                f"binary_data_size {size!r} does not match the {len(binary)} bytes sent"
            )
        if size % DATATYPES[datatype].itemsize:
            raise InvalidInput(f"{size} bytes is not a whole number of {datatype} values")
        array = np.frombuffer(binary, dtype=DATATYPES[datatype])
    else:
        array = _json_data(tensor.get("data"), datatype)
    if array.size != math.prod(shape):
        raise InvalidInput(
            f"input has {array.size} values but shape {shape} needs {math.prod(shape)}"
        )
    return array.reshape(shape)


def _json_data(data: Any, datatype: str) -> np.ndarray:
    """JSON tensor data as an array of the declared datatype: numbers only, each in its range."""
    if not isinstance(data, list):
        raise InvalidInput('input tensor needs "data": a list of numbers')
    values = data
    while values and type(values[0]) is list:  # nested rows, flattened level by level
        if not all(type(row) is list for row in values) or len(set(map(len, values))) > 1:
            raise InvalidInput("input data must be a flat or evenly nested list of numbers")
        values = list(itertools.chain.from_iterable(values))
    dtype = DATATYPES[datatype]
    whole = dtype.kind == "i"
    if not set(map(type, values)) <= ({int} if whole else NUMBERS):
        kind = "whole numbers" if whole else "numbers"
        raise InvalidInput(f"{datatype} input data must contain only {kind}, not booleans or text")
    try:
        array = np.array(values, dtype=np.int64 if whole else np.float64)
    except OverflowError:
        array = None
    # A 64-bit datatype's range is the parsed array's own: a value beyond it is an OverflowError
    if array is not None and dtype.itemsize < 8 and array.size:
        limits = np.iinfo(dtype) if whole else np.finfo(dtype)
        if array.min() < limits.min or array.max() > limits.max:
            array = None
    if array is None:
        raise InvalidInput(f"input data has a value out of the range of {datatype}")
    return array.astype(dtype, copy=False)
