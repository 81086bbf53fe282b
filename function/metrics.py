"""Prometheus metrics: requests by endpoint and status, latency, rows predicted, model info.

Counted by a WSGI middleware rather than Flask hooks: it sees every response, errors included,
and costs a few microseconds a request. Every series carries the revision (``K_REVISION``), one
value per process, so the rollout gate can query each revision's own requests; ``endpoint`` is a
registered path or ``unmatched``, so junk requests cannot add series; ``kind`` is ``prediction``
for a POST to a prediction endpoint and ``other`` for the rest (health checks, scrapes, pages).
"""

import time

from flask import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, Info
from prometheus_client.exposition import generate_latest

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
# Created at 0 on start for every prediction endpoint: a counter born in the middle of a window
# loses its first increments to rate() and increase(), so a revision's first errors would not count.
INITIAL_STATUSES = ("200", "500")


class Metrics:
    """One registry per app, so that each app (and each test) counts on its own."""

    def __init__(self, model, revision):
        self.revision = revision
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "house_price_requests", "HTTP requests by endpoint, kind and status",
            ["revision", "endpoint", "kind", "status"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "house_price_request_duration_seconds", "Time spent handling a request",
            ["revision", "endpoint", "kind"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.rows = Counter("house_price_rows_predicted", "Rows predicted", registry=self.registry)
        Info("house_price_model", "The model being served", registry=self.registry).info(
            {"name": "house-price", "version": model.version, "revision": revision}
        )

    def install(self, app):
        """Serve ``/metrics`` and count every request the app answers."""
        app.add_url_rule("/metrics", "metrics", self.expose)
        paths = {rule.rule for rule in app.url_map.iter_rules()}
        predictions = {rule.rule for rule in app.url_map.iter_rules() if "POST" in rule.methods}
        for endpoint in predictions:
            self.latency.labels(self.revision, endpoint, "prediction")
            for status in INITIAL_STATUSES:
                self.requests.labels(self.revision, endpoint, "prediction", status)
        app.wsgi_app = self._middleware(app.wsgi_app, paths, predictions)

    def expose(self):
        return Response(generate_latest(self.registry), content_type=CONTENT_TYPE_LATEST)

    def _middleware(self, wsgi_app, paths, predictions):
        requests, latency = {}, {}  # label children, cached: labels() is the costly part

        def counted(environ, start_response):
            started = time.perf_counter()
            path = environ.get("PATH_INFO", "")
            endpoint = path if path in paths else "unmatched"
            posted = environ.get("REQUEST_METHOD") == "POST" and endpoint in predictions
            series = (self.revision, endpoint, "prediction" if posted else "other")

            def start(status, headers, exc_info=None):
                key = (*series, status[:3])
                if key not in requests:
                    requests[key] = self.requests.labels(*key)
                requests[key].inc()
                return start_response(status, headers, exc_info)

            response = wsgi_app(environ, start)
            if series not in latency:
                latency[series] = self.latency.labels(*series)
            latency[series].observe(time.perf_counter() - started)
            return response

        return counted
