"""No input is a 500: any JSON value in any field of any protocol is a 4xx naming the problem,
by both paths (Flask's views and the real server), and no failing client can flood the log."""

import asyncio
import copy
import json
import logging

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from function import create_app, create_rsgi_app
from function.events import REQUEST_TYPE
from tests.predictor.over_http import PATHS, REVISION, ServerClient
from tests.support.repo import FEATURES, SAMPLE_ROW

VALUES = [SAMPLE_ROW[name] for name in FEATURES]
V2_INPUT = {"name": "x", "shape": [1, 6], "datatype": "FP64", "data": VALUES, "parameters": {}}
EVENT = {"specversion": "1.0", "id": "1", "source": "/t", "type": REQUEST_TYPE,
         "datacontenttype": "application/json", "subject": "s", "dataschema": "urn:s",
         "time": "2026-01-01T00:00:00Z", "data": [SAMPLE_ROW]}  # fmt: skip
# A valid request of each protocol: (path, content type, body) before a field is replaced
VALID = {
    "records": ("/predict", "application/json", [SAMPLE_ROW]),
    "columns": ("/predict", "application/json", {k: {"0": v} for k, v in SAMPLE_ROW.items()}),
    "kserve v1": ("/v1/models/house-price:predict", "application/json",
                  {"instances": [VALUES, SAMPLE_ROW]}),
    "open inference v2": ("/v2/models/house-price/infer", "application/json", {
        "id": "r", "inputs": [V2_INPUT], "parameters": {"binary_data_output": False},
        "outputs": [{"name": "predict", "parameters": {"binary_data": False}}]}),
    "structured cloudevent": ("/", "application/cloudevents+json", EVENT),
}  # fmt: skip
SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=8)
JSON = st.recursive(
    SCALARS | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)


# No deadline (busy machines); no example database: a failing example is printed, not stored
FUZZING = {"deadline": None, "database": None,
           "suppress_health_check": [HealthCheck.function_scoped_fixture]}  # fmt: skip


@pytest.fixture(scope="module", params=PATHS)
def client(request):
    if request.param == "flask":
        return create_app({"revision": REVISION}).test_client()
    return ServerClient(request.getfixturevalue("server"))


def places(value, path=()):
    """Every place in a JSON document, as a path of keys and indexes (the root is ())."""
    yield path
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in items:
        yield from places(child, (*path, key))


def replaced(document, path, value):
    if not path:
        return value
    document = copy.deepcopy(document)
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return document


@st.composite
def mutated_requests(draw):
    protocol = draw(st.sampled_from(sorted(VALID)))
    path, content_type, body = VALID[protocol]
    place = draw(st.sampled_from(list(places(body))))
    return path, content_type, replaced(body, place, draw(JSON))


@settings(max_examples=250, **FUZZING)
@given(request=mutated_requests())
def test_any_json_in_any_field_is_never_a_server_error(client, request):
    path, content_type, body = request
    response = client.post(path, data=json.dumps(body), content_type=content_type)
    assert response.status_code < 500, (request, response.get_json())
    if response.status_code >= 400:
        assert response.get_json()["error"]


@settings(max_examples=150, **FUZZING)
@given(headers=st.dictionaries(
    st.sampled_from(["ce-specversion", "ce-id", "ce-source", "ce-type", "ce-time", "ce-subject",
                     "ce-dataschema", "content-type", "ce-x"]),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12),
), data=JSON)  # fmt: skip
def test_any_binary_cloudevent_is_never_a_server_error(client, headers, data):
    event = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/t", "ce-type": REQUEST_TYPE}
    response = client.post("/", data=json.dumps(data), headers={**event, **headers},
                           content_type="application/json")  # fmt: skip
    assert response.status_code < 500, (headers, data, response.get_json())


@pytest.mark.parametrize("time", [1, 1.5, True, None, {}, []], ids=repr)
def test_structured_event_time_of_any_json_type(client, time):
    event = {**EVENT, "time": time}
    response = client.post("/", data=json.dumps(event), content_type="application/cloudevents+json")
    assert response.status_code == 400
    assert response.get_json()["error"] == "malformed CloudEvent: time must be a string"


def infer(client, tensor=None, **request):
    body = {"inputs": [{**V2_INPUT, **(tensor or {})}], **request}
    return client.post("/v2/models/house-price/infer", json=body)


@pytest.mark.parametrize(
    ("tensor", "words"),
    [
        ({"datatype": {"FP32": 1}}, "datatype must be one of"),
        ({"datatype": ["FP32"]}, "datatype must be one of"),
        ({"data": [True, *VALUES[1:]]}, "FP64 input data must contain only numbers"),
        ({"data": [[False] * 6]}, "FP64 input data must contain only numbers"),
        ({"datatype": "FP32", "data": [1e39, *VALUES[1:]]}, "out of the range of FP32"),
        ({"datatype": "INT32", "data": [2**31, 6, 296, 15, 396, 4]}, "out of the range of INT32"),
        ({"datatype": "INT64", "data": [2**64 - 1, 6, 296, 15, 396, 4]}, "range of INT64"),
        ({"datatype": "INT32", "data": [0, 6.5, 296, 15, 396, 4]}, "only whole numbers"),
    ],
    ids=["object datatype", "list datatype", "boolean", "nested booleans", "FP32 overflow",
         "INT32 overflow", "INT64 overflow", "INT32 fraction"],
)  # fmt: skip
def test_v2_data_must_fit_the_declared_datatype(client, tensor, words):
    response = infer(client, tensor)
    assert response.status_code == 400 and words in response.get_json()["error"]


def test_v2_json_data_is_read_as_the_declared_datatype(client):
    """FP32 JSON data are float32 values, as the same tensor sent in binary is."""
    raw = np.array([VALUES], dtype=np.float32).tobytes()
    header = json.dumps(
        {
            "inputs": [
                {
                    **V2_INPUT,
                    "datatype": "FP32",
                    "data": None,
                    "parameters": {"binary_data_size": len(raw)},
                }
            ]
        }
    ).encode()
    binary = client.post(
        "/v2/models/house-price/infer", data=header + raw, content_type="application/octet-stream",
        headers={"Inference-Header-Content-Length": str(len(header))},
    )  # fmt: skip
    as_json = infer(client, {"datatype": "FP32"})
    assert as_json.get_json()["outputs"] == binary.get_json()["outputs"]
    whole = {"datatype": "INT64", "data": [0, 7, 296, 15, 397, 5]}
    assert infer(client, whole).status_code == 200


@pytest.mark.parametrize("request_id", [7, 1.5, True, {"a": 1}, ["r"]], ids=repr)
def test_v2_id_must_be_a_string(client, request_id):
    response = infer(client, id=request_id)
    assert response.status_code == 400 and '"id" must be a string' in response.get_json()["error"]
    assert infer(client, id="r-1").get_json()["id"] == "r-1"


@pytest.mark.parametrize("outputs", [1, "predict", {"name": "predict"}, [1]], ids=repr)
def test_v2_outputs_must_be_a_list_of_objects(client, outputs):
    response = infer(client, outputs=outputs)
    assert response.status_code == 400 and "outputs" in response.get_json()["error"]


def test_client_errors_leave_no_trace_in_the_log(caplog):
    client = create_app().test_client()  # the log of this process
    with caplog.at_level(logging.INFO):
        for _ in range(20):
            assert infer(client, {"datatype": {}}).status_code == 400
            assert (
                client.post("/", data="{", content_type="application/cloudevents+json").status_code
                == 400
            )
    assert caplog.records == []


def test_a_repeated_server_error_is_logged_once(caplog):
    app = create_app()
    app.add_url_rule("/fails", view_func=lambda: 1 / 0)  # stands for a bug a client keeps hitting
    client = app.test_client()
    with caplog.at_level(logging.ERROR):
        statuses = {client.get("/fails").status_code for _ in range(50)}
    assert statuses == {500}
    [record] = caplog.records
    assert record.exc_info[0] is ZeroDivisionError


class BrokenSession:
    """Stands for a bug below every prediction path: the model's session raises."""

    def run(self, *args):
        raise ZeroDivisionError("a bug")


def test_a_bug_on_the_gateways_lean_path_is_answered_as_any_bug(caplog):
    """What the handler raises that is not a client's error goes to Flask, which answers it as
    every bug: a JSON 500, counted, its traceback logged once."""
    gateway = create_rsgi_app()
    gateway.plane.model._session = BrokenSession()
    with caplog.at_level(logging.ERROR):
        answers = [rsgi_post(gateway, "/predict", json.dumps([SAMPLE_ROW])) for _ in range(20)]
    assert {status for status, _, _ in answers} == {500}
    assert {body for _, _, body in answers} == {b'{"error":"internal error; see the server log"}\n'}
    [record] = caplog.records
    assert record.exc_info[0] is ZeroDivisionError
    headers = dict(answers[0][1])
    assert headers["Content-Type"] == "application/json" and headers["X-Model-Version"] == "v1"


def rsgi_post(gateway, path, body):
    """(status, headers, body) of one POST through the gateway's RSGI interface, in process."""

    class Scope:
        method, path, query_string, scheme, http_version = "POST", "/predict", "", "http", "1.1"
        server, client = "127.0.0.1:8080", "127.0.0.1:40000"
        headers = {"content-type": "application/json", "content-length": str(len(body))}

    class Protocol:
        async def __call__(self):
            return body.encode()

        def response_bytes(self, status, headers, content):
            self.answer = status, headers, content

    Scope.path, proto = path, Protocol()
    asyncio.run(gateway.__rsgi__(Scope, proto))
    return proto.answer
