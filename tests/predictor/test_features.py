"""FeatureSchema: the matrix built from each input shape, in feature order."""

import numpy as np
import pytest

from function.errors import InvalidInput, PayloadTooLarge
from function.features import FEW_VALUES, FeatureSchema, all_finite
from function.jsonio import parse_json

SCHEMA = FeatureSchema(["A", "B"], max_rows=3)


def test_records_columns_instances_and_arrays_agree():
    expected = np.array([[1.0, 2.0], [3.0, 4.5]])
    inputs = [
        SCHEMA.from_rows([{"B": 2, "A": 1}, {"A": 3, "B": 4.5}]),
        SCHEMA.from_rows({"A": {"0": 1, "1": 3}, "B": {"0": 2, "1": 4.5}}),
        SCHEMA.from_instances([[1, 2], {"A": 3, "B": 4.5}]),
        SCHEMA.from_array(np.array([[1, 2], [3, 4.5]], dtype=np.float32)),
    ]
    for matrix in inputs:
        assert matrix.dtype == np.float64
        np.testing.assert_array_equal(matrix, expected)


def test_one_record_is_a_batch_of_one():
    np.testing.assert_array_equal(SCHEMA.from_rows({"A": 1, "B": 2}), [[1.0, 2.0]])


def test_errors_name_the_row_and_feature():
    with pytest.raises(InvalidInput, match="feature B in row 1 must be a number, not str"):
        SCHEMA.from_records([{"A": 1, "B": 2}, {"A": 1, "B": "2"}])
    with pytest.raises(InvalidInput, match="feature A in row x must be a number, not bool"):
        SCHEMA.from_columns({"A": {"x": True}, "B": {"x": 1}})
    with pytest.raises(InvalidInput, match="feature B in row 0 is not finite"):
        SCHEMA.from_array(np.array([[1.0, np.inf]]))
    with pytest.raises(InvalidInput, match="feature A in row y is not finite"):
        SCHEMA.from_columns({"A": {"x": 1, "y": 1e308 * 10}, "B": {"x": 1, "y": 2}})


def test_integers_too_large_for_a_double():
    with pytest.raises(InvalidInput, match="too large for a 64-bit float"):
        SCHEMA.from_records([{"A": 10**400, "B": 1}])


def test_row_limit_is_inclusive():
    assert SCHEMA.from_records([{"A": 1, "B": 2}] * 3).shape == (3, 2)
    with pytest.raises(PayloadTooLarge, match="4 > 3"):
        SCHEMA.from_records([{"A": 1, "B": 2}] * 4)


def test_parse_json_rejects_junk():
    assert parse_json(b'{"a": [1]}') == {"a": [1]}
    for junk in (b"", b"{", b"\xff\xfe", b"[" * 50_000, b"[NaN]", b"[1e999]"):
        with pytest.raises(InvalidInput, match="malformed JSON"):
            parse_json(junk)


@pytest.mark.parametrize("size", [1, FEW_VALUES, FEW_VALUES + 1, 1000])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_all_finite_finds_any_bad_value_by_either_scan(size, bad):
    values = np.linspace(-3e38, 3e38, size)  # within float32 too
    assert all_finite(values) and all_finite(values.astype(np.float32).reshape(size, 1))
    for position in {0, size // 2, size - 1}:
        spoiled = values.copy()
        spoiled[position] = bad
        assert not all_finite(spoiled)
        assert not all_finite(spoiled.astype(np.float32).reshape(size, 1))
