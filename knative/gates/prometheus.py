"""Prometheus's HTTP API, as plain JSON over ``requests``: its version and instant queries.

Anything but a well-formed answer (no answer, an HTTP error, a body that is not the API's JSON, a
failed query) raises ``PrometheusError``: the gate never reads a broken answer as a pass.
"""

import math
from typing import Any

from knative.deadline import NO_ANSWER, no_answer, session, within
from knative.errors import RolloutError

TIMEOUT = 10.0


class PrometheusError(RolloutError):
    """Prometheus did not answer as its HTTP API does (exit code 2)."""


class Prometheus:
    """Prometheus at ``url``; each answer must come whole within ``timeout`` seconds."""

    def __init__(self, url: str, timeout: float = TIMEOUT) -> None:
        self.url, self.timeout = url.rstrip("/"), timeout

    def version(self) -> str:
        """The server's version: proof that a Prometheus answers at ``url``."""
        data = self._get("/api/v1/status/buildinfo", {})
        if not isinstance(data, dict) or "version" not in data:
            raise PrometheusError(f"Prometheus at {self.url} answered no build information")
        return str(data["version"])

    def query(self, promql: str, label: str = "revision") -> dict[str, float]:
        """An instant query: each series' ``label`` and value (NaN values, 0/0, left out)."""
        return {key[0]: value for key, value in self.query_by(promql, (label,)).items()}

    def query_by(self, promql: str, labels: tuple[str, ...]) -> dict[tuple[str, ...], float]:
        """An instant query: each series' ``labels`` values and its value (NaN left out)."""
        data = self._get("/api/v1/query", {"query": promql})
        if not isinstance(data, dict) or data.get("resultType") != "vector":
            raise PrometheusError(f"Prometheus at {self.url} answered no vector to {promql}")
        values = {}
        try:
            for series in data["result"]:
                value = float(series["value"][1])
                if not math.isnan(value):
                    values[tuple(series["metric"].get(label, "") for label in labels)] = value
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            raise PrometheusError(
                f"Prometheus at {self.url} answered a malformed vector to {promql}: {exc!r}"
            ) from None
        return values

    def _get(self, path: str, params: dict) -> Any:
        where = f"Prometheus at {self.url}"
        try:
            with session() as http:
                response = within(http, "GET", self.url + path, self.timeout, params=params)
        except NO_ANSWER as exc:
            raise PrometheusError(f"{where} did not answer ({no_answer(exc)})") from None
        try:
            body = response.json()
            status = body["status"]
        except (ValueError, KeyError, TypeError):
            raise PrometheusError(
                f"{where} answered HTTP {response.status_code} with something that is not "
                f"Prometheus's HTTP API: {response.text[:120]!r}"
            ) from None
        if status != "success":
            raise PrometheusError(
                f"{where} answered {status} (HTTP {response.status_code}) to {params or path}: "
                f"{body.get('errorType')}: {body.get('error')}"
            )
        return body.get("data")
