"""Turn decoded rows into the float64 feature matrix the model takes, or say what is wrong."""

import itertools
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .errors import InvalidInput, PayloadTooLarge

NUMBERS = frozenset({int, float})  # bool is a subclass of int, but not a JSON number
# Up to this many values, a Python scan is cheaper than a numpy call (~1.3 us each, most of it
# numpy's per-call cost): a single-row request is checked in ~0.4 us.
FEW_VALUES = 64


def all_finite(array: np.ndarray) -> bool:
    """Whether no value of ``array`` is NaN or infinite."""
    if array.size <= FEW_VALUES:
        return all(map(math.isfinite, array.ravel().tolist()))
    return bool(np.isfinite(array).all())


class FeatureSchema:
    """The model's features in order, and the batch size limit."""

    def __init__(self, names: Iterable[str], max_rows: int) -> None:
        self.names = list(names)
        self._name_set = frozenset(self.names)
        self._values = lambda record: [record[name] for name in self.names]
        self.max_rows = max_rows

    def from_rows(self, payload: Any) -> np.ndarray:
        """What ``POST /predict`` takes: pandas "columns" JSON, a list of records or one record."""
        if isinstance(payload, list):
            return self.from_records(payload)
        if not isinstance(payload, dict):
            raise InvalidInput("expected pandas columns JSON, a list of records or one record")
        if payload and all(isinstance(column, dict) for column in payload.values()):
            return self.from_columns(payload)
        return self.from_records([payload])

    def from_records(self, records: Any) -> np.ndarray:
        """``[{"CHAS": 0, "RM": 6.5, ...}, ...]``: one object per row."""
        self._check_count(records)
        names = self._name_set
        if not all(type(record) is dict and record.keys() == names for record in records):
            for i, record in enumerate(records):
                self._record_row(record, i)  # raises, naming the first bad row
        return self._matrix(list(map(self._values, records)))

    def from_columns(self, columns: dict[str, Any]) -> np.ndarray:
        """pandas "columns" JSON ``{"CHAS": {"0": 0, ...}, "RM": {"0": 6.5, ...}, ...}``."""
        self._check_names(columns, "the columns")
        index = list(columns[self.names[0]])
        self._check_count(index)
        for name in self.names:
            column = columns[name]
            if not isinstance(column, dict) or column.keys() != set(index):
                raise InvalidInput(
                    f"column {name} must map the same row keys as column {self.names[0]}"
                )
        return self._matrix([[columns[n][key] for n in self.names] for key in index], index)

    def from_instances(self, instances: Any) -> np.ndarray:
        """KServe V1 ``instances``: rows as lists in feature order or as objects."""
        self._check_count(instances)
        rows = []
        for i, row in enumerate(instances):
            if isinstance(row, dict):
                rows.append(self._record_row(row, i))
            elif isinstance(row, list) and len(row) == len(self.names):
                rows.append(row)
            else:
                raise InvalidInput(
                    f"instance {i} must be a list of {len(self.names)} numbers in the order "
                    f"{', '.join(self.names)}, or an object of features"
                )
        return self._matrix(rows)

    def from_array(self, array: np.ndarray) -> np.ndarray:
        """An [N, features] numeric array (Open Inference Protocol tensors)."""
        if array.ndim != 2 or array.shape[1] != len(self.names):
            raise InvalidInput(f"expected shape [N, {len(self.names)}], got {list(array.shape)}")
        self._check_count(array)
        return self._finite(array.astype(np.float64, copy=False))

    def _check_count(self, rows: Any) -> None:
        if not isinstance(rows, list | np.ndarray):
            raise InvalidInput(f"expected a list of rows, got {type(rows).__name__}")
        if len(rows) == 0:
            raise InvalidInput("empty batch: send at least one row")
        if len(rows) > self.max_rows:
            raise PayloadTooLarge(f"too many rows: {len(rows)} > {self.max_rows} (MAX_BATCH_ROWS)")

    def _check_names(self, obj: dict[str, Any], what: str) -> None:
        if obj.keys() != self._name_set:
            missing = [n for n in self.names if n not in obj]
            unknown = sorted(str(k) for k in obj.keys() - self._name_set)
            problems = [f"missing {', '.join(missing)}"] * bool(missing)
            problems += [f"unknown {', '.join(unknown)}"] * bool(unknown)
            raise InvalidInput(f"{what}: {'; '.join(problems)} (expected {', '.join(self.names)})")

    def _record_row(self, record: Any, i: int) -> list[Any]:
        if not isinstance(record, dict):
            raise InvalidInput(
                f"row {i} must be an object of features, got {type(record).__name__}"
            )
        self._check_names(record, f"row {i}")
        return self._values(record)

    def _matrix(self, rows: list[list[Any]], labels: list[str] | None = None) -> np.ndarray:
        """Build the matrix; every value must be a finite JSON number (not a bool or string)."""
        if not set(map(type, itertools.chain.from_iterable(rows))) <= NUMBERS:  # a C-speed scan
            self._name_non_number(rows, labels)
        try:
            matrix = np.array(rows, dtype=np.float64)
        except OverflowError:
            raise InvalidInput("a feature value is too large for a 64-bit float") from None
        return self._finite(matrix, labels)

    def _name_non_number(self, rows: list[list[Any]], labels: list[str] | None) -> None:
        for i, row in enumerate(rows):
            for name, value in zip(self.names, row, strict=True):
                if type(value) not in NUMBERS:
                    label = labels[i] if labels else i
                    kind = type(value).__name__
                    raise InvalidInput(
                        f"feature {name} in row {label} must be a number, not {kind}"
                    )

    def _finite(self, matrix: np.ndarray, labels: list[str] | None = None) -> np.ndarray:
        if not all_finite(matrix):
            row, column = np.argwhere(~np.isfinite(matrix))[0]
            label = labels[row] if labels else row
            raise InvalidInput(f"feature {self.names[column]} in row {label} is not finite")
        return matrix
