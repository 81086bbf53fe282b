"""Talking to one revision's predictor at its URL: ``POST /predict`` of a list of records, each
answer checked as the revision's own (200, ``X-Revision``); rows sent in batches.
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path

import requests

from knative.deadline import NO_ANSWER, no_answer, session, within

# A valid ``POST /predict`` body (a list of records): the repository's sample row.
SAMPLE_ROW = Path(__file__).resolve().parents[2] / "model_data" / "sample-row.json"
PROBE_ROWS = [json.loads(SAMPLE_ROW.read_text())]
# Longer than a revision's responseStartTimeoutSeconds (knative/base/service.yaml), so the
# warm-up outlasts a cold start and it is Knative that gives up on a revision that never answers.
WARM_UP_TIMEOUT = 150.0
PROBE_TIMEOUT = 10.0
BATCH_ROWS = 50  # rows per request: far below the server's MAX_BATCH_ROWS and body limit


class NoPredictions(Exception):
    """The revision did not answer a batch as the predictor does; the message says how."""

    def __init__(self, message: str, requests: int) -> None:
        super().__init__(message)
        self.requests = requests  # sent before it stopped, the failed one included


@dataclass(frozen=True)
class Answers:
    predictions: list[float]
    model_version: str | None  # X-Model-Version of the answers
    requests: int


def predict(url: str, revision: str, rows: list[dict]) -> Answers:
    """Predictions for ``rows`` from ``url``, which must answer as ``revision`` (X-Revision)."""
    endpoint = url.rstrip("/") + "/predict"
    predictions, version, sent = [], None, 0
    with session() as http:
        for start in range(0, len(rows), BATCH_ROWS):
            batch = rows[start : start + BATCH_ROWS]
            where = f"rows {start + 1}-{start + len(batch)}"
            timeout = PROBE_TIMEOUT if sent else WARM_UP_TIMEOUT  # the first may wait for a pod
            sent += 1
            try:
                response = within(http, "POST", endpoint, timeout, json=batch)
            except NO_ANSWER as exc:
                raise NoPredictions(f"no answer to {where} ({no_answer(exc)})", sent) from None
            problem, values = _checked(response, revision, len(batch))
            if problem:
                raise NoPredictions(f"{where}: {problem}", sent)
            predictions += values
            version = response.headers.get("X-Model-Version")
    return Answers(predictions, version, sent)


def wrong_answer(response: requests.Response, revision: str) -> str | None:
    """What is wrong with an answer that should come from ``revision``, or None."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    answered_by = response.headers.get("X-Revision")
    if answered_by != revision:
        return f"answered by {answered_by or 'no X-Revision'}"
    return None


def _checked(response: requests.Response, revision: str, count: int) -> tuple[str | None, list]:
    """(what is wrong or None, the predictions)."""
    problem = wrong_answer(response, revision)
    if problem:
        body = f": {response.text[:200]}" if response.status_code != 200 else ""
        return problem + body, []
    try:
        values = [float(value) for value in response.json()["prediction"]]
    except (ValueError, KeyError, TypeError):
        return "the answer holds no list of predictions", []
    if len(values) != count or not all(math.isfinite(value) for value in values):
        return f"{count} finite predictions wanted, got {values[:5]}...", []
    return None, values
