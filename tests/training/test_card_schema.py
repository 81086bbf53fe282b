"""Every model card in model_data/ has the shape model_data/model-card.schema.json writes down,
and the schema requires what each reader of a card takes from it."""

import copy
import json

import jsonschema
import pytest

from tests.support.repo import MODEL_DATA

SCHEMA = json.loads((MODEL_DATA / "model-card.schema.json").read_text())
CARDS = sorted(MODEL_DATA.glob("model-v*.json"))
# What each reader takes from a card (path of keys; "[]" is every item of a list).
READ_BY = {
    "function/": [("name",), ("version",), ("features", "[]", "name"), ("features", "[]", "min"),
                  ("artifacts", "onnx", "sha256")],
    "knative/gates/model_card.py": [
        ("features", "[]", "name"), ("features", "[]", "min"), ("features", "[]", "max"),
        ("features", "[]", "used"), ("target", "name"), ("metrics", "rmse"), ("metrics", "mae"),
        ("metrics", "reference_rows", "file"), ("metrics", "reference_rows", "sha256"),
    ],
    "loadtest/rows.py": [("features", "[]", "name"), ("features", "[]", "min"),
                         ("features", "[]", "max")],
}  # fmt: skip


def test_the_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("card", CARDS, ids=lambda path: path.name)
def test_every_card_in_model_data_has_the_shape_of_the_schema(card):
    jsonschema.validate(json.loads(card.read_text()), SCHEMA)


def test_there_are_cards_to_check():
    assert [card.name for card in CARDS] == ["model-v1.json", "model-v2.json"]


@pytest.mark.parametrize("reader", READ_BY)
def test_what_each_reader_takes_is_required(reader):
    card = json.loads(CARDS[0].read_text())
    for path in READ_BY[reader]:
        broken = copy.deepcopy(card)
        *parents, last = path
        node = broken
        for key in parents:
            node = node[0] if key == "[]" else node[key]
        del node[last]
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, SCHEMA)


def test_a_wrong_type_is_refused():
    card = json.loads(CARDS[0].read_text())
    card["metrics"]["rmse"] = "3.6"
    with pytest.raises(jsonschema.ValidationError, match="'3.6' is not of type 'number'"):
        jsonschema.validate(card, SCHEMA)
