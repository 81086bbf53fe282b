"""Prometheus metrics: requests by endpoint and status, latency, rows and prices predicted, model.

Counted by a WSGI middleware rather than Flask hooks: it sees every response, errors included,
and costs a few microseconds a request. Every series carries the revision (``K_REVISION``), one
value per process, so the rollout gate can query each revision's own requests; ``endpoint`` is
the route that matched (a hook notes it; paths with variables count under their route) or
``unmatched``, so junk requests cannot add series; ``kind`` is ``prediction`` for a POST to a
prediction endpoint and ``other`` for the rest (health checks, scrapes, pages).

``house_price_predicted_value`` is what the model answered, one observation per predicted row,
labelled by revision only (nothing from a request, so junk cannot add series); its buckets split
the card's label range into equal parts, the same for every model trained on the data set, so
that blue's and green's answers can be compared bucket by bucket.
"""

import bisect
import itertools
import operator
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
from flask import Flask, Response, request
from prometheus_client import CollectorRegistry, Counter, Histogram, Info
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import HistogramMetricFamily
from prometheus_client.utils import floatToGoString

from .model import Model

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

RULE = "house_price.rule"  # environ key: the route that matched, the endpoint label
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
# Created at 0 on start for every prediction endpoint: a counter born in the middle of a window
# loses its first increments to rate() and increase(), so a revision's first errors would not count.
INITIAL_STATUSES = ("200", "500")
# Equal buckets over the card's label range (MEDV 5 to 50, in $1000s: $1,000 each); predictions
# below the lowest edge count in it, those above the highest in +Inf.
PREDICTION_BUCKETS = 45


class Metrics:
    """One registry per app, so that each app (and each test) counts on its own."""

    def __init__(self, model: Model, revision: str) -> None:
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
        self._children: dict[tuple[str, ...], tuple[Counter, Histogram]] = {}
        self.rows = Counter("house_price_rows_predicted", "Rows predicted", registry=self.registry)
        Info("house_price_model", "The model being served", registry=self.registry).info(
            {"name": "house-price", "version": model.version, "revision": revision}
        )
        self.predicted_values = None  # a model that did not load answers nothing
        if model.ready:
            self.predicted_values = PredictedValues(revision, prediction_buckets(model.card))
            self.registry.register(self.predicted_values)

    def predicted(self, predictions: np.ndarray) -> None:
        """Count the rows predicted and record each price answered."""
        self.rows.inc(predictions.size)
        self.predicted_values.observe(predictions)

    def install(self, app: Flask) -> None:
        """Serve ``/metrics`` and count every request the app answers, by the route it matched."""
        app.add_url_rule("/metrics", "metrics", self.expose)
        app.before_request(name_the_route)
        predictions = {rule.rule for rule in app.url_map.iter_rules() if "POST" in rule.methods}
        for endpoint in predictions:
            for status in INITIAL_STATUSES:
                self._child((self.revision, endpoint, "prediction"), status)
        app.wsgi_app = self._middleware(app.wsgi_app, predictions)

    def expose(self) -> Response:
        """The text format, or OpenMetrics for a scraper whose Accept header asks for it."""
        encoder, content_type = choose_encoder(request.headers.get("Accept"))
        return Response(encoder(self.registry), content_type=content_type)

    def answered(self, endpoint: str, kind: str, status: str, seconds: float) -> None:
        """Count one answered request and the time it took (the middleware's and the gateway's
        lean path's one way to count)."""
        series = (self.revision, endpoint, kind)
        counter, histogram = self._children.get((*series, status)) or self._child(series, status)
        counter.inc()
        histogram.observe(seconds)

    def _child(self, series: tuple[str, str, str], status: str) -> tuple[Counter, Histogram]:
        """The label children of a series, cached: ``labels()`` is the costly part."""
        child = self.requests.labels(*series, status), self.latency.labels(*series)
        self._children[(*series, status)] = child
        return child

    def _middleware(self, wsgi_app: WSGIApp, predictions: set[str]) -> WSGIApp:
        def counted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            started = time.perf_counter()
            answer = []

            def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                answer[:] = [status[:3]]
                return start_response(status, headers, exc_info)

            response = wsgi_app(environ, start)
            endpoint = environ.get(RULE, "unmatched")  # known once the app has routed it
            posted = environ.get("REQUEST_METHOD") == "POST"
            kind = "prediction" if posted and endpoint in predictions else "other"
            self.answered(endpoint, kind, answer[0], time.perf_counter() - started)
            return response

        return counted


def name_the_route() -> None:
    if request.url_rule is not None:
        request.environ[RULE] = request.url_rule.rule


def prediction_buckets(card: dict[str, Any]) -> tuple[float, ...]:
    """The upper bounds of the price buckets: the card's label range in equal parts."""
    target = card["target"]
    edges = np.linspace(target["min"], target["max"], PREDICTION_BUCKETS + 1)
    return tuple(round(float(edge), 6) for edge in edges)


class PredictedValues:
    """``house_price_predicted_value``, a histogram observed a whole batch at a time.

    prometheus_client's ``Histogram.observe`` takes one value and scans the buckets in Python
    (~7 us a row with 46 buckets: 37 ms for a batch of 10,000 rows); counting a batch with numpy
    costs ~5 us for one row and ~1 ms for 10,000, and a binary search per row in Python ~0.3 us
    for one row: a batch of up to ``FEW`` rows is counted in Python. Exposed through
    prometheus_client's own ``HistogramMetricFamily``, so the text is the library's.
    """

    FEW = 16

    NAME = "house_price_predicted_value"
    HELP = "Prices the model answered, in $1000s (the card's target unit), one per row"

    def __init__(self, revision: str, bounds: tuple[float, ...]) -> None:
        self.revision = revision
        self.bounds = np.array(bounds)  # for numpy's search; the list for bisect's
        self._bounds = list(bounds)
        self._edges = [floatToGoString(bound) for bound in bounds] + ["+Inf"]  # the "le" labels
        self._counts = [0] * (len(bounds) + 1)  # the last: above every bound
        self._sum = 0.0
        self._lock = threading.Lock()  # a scrape must see counts and sum of the same batches

    def observe(self, values: np.ndarray) -> None:
        # Bucket i holds bounds[i-1] < value <= bounds[i]: Prometheus's "le" (and bisect_left's)
        if values.size <= self.FEW:
            with self._lock:
                for value in values.tolist():
                    self._counts[bisect.bisect_left(self._bounds, value)] += 1
                    self._sum += value
            return
        counts = np.bincount(np.searchsorted(self.bounds, values), minlength=len(self._counts))
        total = float(values.sum(dtype=np.float64))
        with self._lock:
            self._counts = list(map(operator.add, self._counts, counts.tolist()))
            self._sum += total

    def describe(self) -> Iterator[HistogramMetricFamily]:
        yield HistogramMetricFamily(self.NAME, self.HELP, labels=["revision"])

    def collect(self) -> Iterator[HistogramMetricFamily]:
        with self._lock:
            cumulative, total = list(itertools.accumulate(self._counts)), self._sum
        family = HistogramMetricFamily(self.NAME, self.HELP, labels=["revision"])
        family.add_metric([self.revision], list(zip(self._edges, cumulative, strict=True)), total)
        yield family
