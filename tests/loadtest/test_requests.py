import json
import random

import numpy as np
import pytest

from loadtest.protocols import BadReply, CloudEventBinary, OpenInferenceV2, PandasPredict
from loadtest.rows import RowSampler

CARD = {
    "name": "house-price",
    "version": "v1",
    "features": [
        {"name": "CHAS", "min": 0, "max": 1},
        {"name": "RM", "min": 3.561, "max": 8.78},
        {"name": "TAX", "min": 187, "max": 711},
    ],
}
ROWS = [{"CHAS": 0, "RM": 6.575, "TAX": 296}, {"CHAS": 1, "RM": 5.5, "TAX": 242}]


@pytest.fixture
def card(tmp_path):
    path = tmp_path / "model-v1.json"
    path.write_text(json.dumps(CARD))
    return path


def test_rows_stay_inside_the_card_ranges_in_its_feature_order(card):
    sampler = RowSampler.from_card(card, random.Random(5))
    rows = sampler.rows(200)
    assert len(rows) == 200
    assert all(list(row) == ["CHAS", "RM", "TAX"] for row in rows)
    assert {row["CHAS"] for row in rows} == {0, 1}
    assert all(3.561 <= row["RM"] <= 8.78 and 187 <= row["TAX"] <= 711 for row in rows)
    assert all(isinstance(row["TAX"], int) for row in rows)
    assert len({row["RM"] for row in rows}) > 100  # continuous features are not stuck


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "no valid features"),
        (json.dumps({"name": "house-price"}), "no valid features"),
        (json.dumps({"features": [{"name": "RM", "min": 9, "max": 3}]}), "above max"),
        (json.dumps({"features": []}), "lists no features"),
    ],
)
def test_a_bad_card_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "card.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        RowSampler.from_card(path)


def test_a_missing_card_says_how_to_make_one(tmp_path):
    with pytest.raises(ValueError, match="make train"):
        RowSampler.from_card(tmp_path / "model-v9.json")


def test_predict_sends_pandas_columns_and_reads_prediction():
    headers, body = PandasPredict().encode(ROWS)
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "CHAS": {"0": 0, "1": 1},
        "RM": {"0": 6.575, "1": 5.5},
        "TAX": {"0": 296, "1": 242},
    }
    assert PandasPredict().predictions({}, b'{"prediction": [24.1, 17]}', 2) == [24.1, 17]


def test_v2_sends_one_fp64_tensor_and_reads_the_first_output():
    _, body = OpenInferenceV2().encode(ROWS)
    tensor = json.loads(body)["inputs"][0]
    assert (tensor["shape"], tensor["datatype"]) == ([2, 3], "FP64")
    assert tensor["data"] == [0, 6.575, 296, 1, 5.5, 242]
    reply = {"outputs": [{"name": "predict", "shape": [2, 1], "datatype": "FP64", "data": [1, 2]}]}
    assert OpenInferenceV2().predictions({}, json.dumps(reply).encode(), 2) == [1.0, 2.0]


def test_v2_reads_a_binary_output_too():
    output = {"name": "predict", "shape": [2], "datatype": "FP64"}
    header = json.dumps({"outputs": [output | {"parameters": {"binary_data_size": 16}}]}).encode()
    reply = header + np.array([3.5, 4.5], dtype="<f8").tobytes()
    headers = {"Inference-Header-Content-Length": str(len(header))}
    assert OpenInferenceV2().predictions(headers, reply, 2) == [3.5, 4.5]


def test_cloudevent_goes_in_binary_mode_and_the_reply_type_is_checked():
    headers, body = CloudEventBinary().encode(ROWS)
    assert headers["ce-type"] == "house-price.predict.request"
    assert headers["ce-specversion"] == "1.0" and headers["ce-id"]
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["RM"] == {"0": 6.575, "1": 5.5}

    reply = {**headers, "ce-type": "house-price.predict.response"}
    assert CloudEventBinary().predictions(reply, b'{"prediction": [3, 4]}', 2) == [3, 4]
    with pytest.raises(BadReply, match="not 'house-price.predict.response'"):
        CloudEventBinary().predictions(headers, b'{"prediction": [3, 4]}', 2)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"prediction": [1.0]}', "1 predictions for 2 rows"),
        (b'{"prediction": [1.0, "2"]}', "'2' is not a number"),
        (b'{"prediction": [1.0, true]}', "True is not a number"),
        (b'{"prediction": [1.0, NaN]}', "nan is not finite"),
        (b'{"error": "RM is missing"}', "undecodable reply: KeyError"),
        (b"<html>busy</html>", "undecodable reply: JSONDecodeError"),
    ],
)
def test_a_reply_without_one_number_per_row_is_bad(body, message):
    with pytest.raises(BadReply, match=message):
        PandasPredict().predictions({}, body, 2)
