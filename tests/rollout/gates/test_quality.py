"""The quality gate's checks, from numbers (pure), and the card and reference rows it reads."""

import json
import shutil

import pytest

from knative.errors import RolloutError
from knative.gates.model_card import SANITY_ROWS, load
from knative.gates.quality import (
    agreement_check,
    error_check,
    feature_check,
    mae,
    rmse,
    spread_check,
)
from knative.gates.settings import GateSettings
from tests.support.repo import MODEL_DATA

LIMITS = GateSettings()


def test_rmse_and_mae():
    assert rmse([1.0, 3.0], [2.0, 2.0]) == 1.0
    assert mae([1.0, 4.0], [2.0, 2.0]) == 1.5


def test_an_error_within_card_and_incumbent_passes_and_names_the_binding_limit():
    check = error_check("RMSE", 3.7051, 3.7051, 3.606, "house-price-v1", LIMITS)
    assert check.passed
    assert check.line == "RMSE 3.71 (card 3.71, house-price-v1 3.61, limit 3.89 = card +5 %) ok"


def test_an_error_above_the_incumbents_says_by_how_much():
    check = error_check("MAE", 3.0, 3.0, 2.4, "house-price-v1", LIMITS)
    assert not check.passed
    assert check.line.endswith("limit 2.64 = house-price-v1 +10 %) FAILED: 0.36 over")
    assert check.numbers == {"value": 3.0, "card": 3.0, "incumbent": 2.4, "limit": 2.4 * 1.1}


def test_a_served_model_worse_than_its_own_card_fails():
    """The original service's bug: the model was fine, serving it was not."""
    check = error_check("RMSE", 9.1, 3.71, 9.5, "house-price-v1", LIMITS)
    assert not check.passed and "limit 3.90 = card +5 %" in check.line


def test_agreement_is_reported_unless_gated():
    ours, theirs = [1.0, 2.0, 10.0, 4.0], [1.5, 2.0, 5.0, 4.0]
    reported = agreement_check(ours, theirs, "house-price-v1", LIMITS)
    assert reported.passed is None
    assert "mean |diff| 1.38, max 5.00; 1/4 rows (25.0 %) differ by more than 2" in reported.line
    gated = agreement_check(ours, theirs, "house-price-v1", GateSettings(max_disagreeing_rows=0.2))
    assert gated.passed is False and gated.line.endswith("(limit 20.0 %) FAILED: 5.0 % over")
    assert agreement_check(ours, theirs, "v1", GateSettings(max_disagreeing_rows=0.25)).passed


def test_a_constant_answer_fails_the_spread_check():
    labels = [10.0, 20.0, 30.0, 40.0]
    assert spread_check([22.5] * 4, labels).passed is False
    assert spread_check([12.0, 19.0, 33.0, 38.0], labels).passed


@pytest.fixture(scope="module")
def v2():
    return load(MODEL_DATA, "v2")


def moved_predictions(reference, effect):
    """Predictions for ``Reference.moved`` of each feature, ``effect(feature)`` apart."""
    predictions = []
    for feature in reference.features:
        predictions += [20.0] * SANITY_ROWS + [20.0 + effect(feature)] * SANITY_ROWS
    return predictions


def test_the_reference_is_the_held_out_rows_with_the_cards_features(v2):
    assert (len(v2.rows), len(v2.labels)) == (102, 102)
    assert [f.name for f in v2.features] == list(v2.rows[0])
    assert [f.name for f in v2.features if not f.used] == ["B"]
    assert (v2.rmse, v2.mae) == pytest.approx((3.705, 2.476), abs=1e-3)
    low, high = v2.moved(v2.features[1])
    assert [row["RM"] for row in low] == [v2.features[1].low] * SANITY_ROWS
    assert [row["RM"] for row in high] == [v2.features[1].high] * SANITY_ROWS
    assert low[0] | {"RM": v2.rows[0]["RM"]} == v2.rows[0]


def test_features_the_card_uses_must_move_and_the_others_must_not(v2):
    honest = feature_check(v2, moved_predictions(v2, lambda f: 1.0 if f.used else 0.0))
    assert honest.passed
    assert "CHAS 5, RM 5, TAX 5, PTRATIO 5, B (unused) 0, LSTAT 5 ok" in honest.line
    ignores_rm = feature_check(v2, moved_predictions(v2, lambda f: float(f.name not in "RM B")))
    assert not ignores_rm.passed
    assert "the card says it uses RM, yet moving them changes no prediction" in ignores_rm.line
    uses_b = feature_check(v2, moved_predictions(v2, lambda f: 1.0))
    assert "the card says it ignores B, yet moving them changes predictions" in uses_b.line


def test_a_missing_card_or_changed_rows_stop_with_a_clear_error(tmp_path):
    with pytest.raises(RolloutError, match="no model card for the candidate's model v7"):
        load(MODEL_DATA, "v7")
    shutil.copy(MODEL_DATA / "model-v2.json", tmp_path)
    (tmp_path / "reference-rows.csv").write_text("CHAS,RM\n0,6\n")
    with pytest.raises(RolloutError, match="is not the file card model-v2.json names"):
        load(tmp_path, "v2")
    card = json.loads((MODEL_DATA / "model-v2.json").read_text())
    del card["metrics"]["reference_rows"]
    (tmp_path / "model-v2.json").write_text(json.dumps(card))
    with pytest.raises(RolloutError, match="lacks what the gate needs: KeyError"):
        load(tmp_path, "v2")
