"""Real traffic for the live gate: predictions (``rows`` rows a request) from a background thread
to the real servers that play the revisions, shared as the fake Knative API's current split says
(what a Knative route does). Bounded in rate, count and time; all on 127.0.0.1.

The rows are drawn uniformly from the features' training ranges (model v1's card), as clients
may send: unlike the data set's rows, some are large houses in poor districts.
"""

import json
import threading
from collections import Counter

import numpy as np
import requests

from knative.traffic.plan import parse_traffic
from tests.support.repo import MODEL_DATA


class SplitLoad:
    def __init__(self, fake, urls: dict[str, str], rate=100.0, limit=3000, delay=0.0, rows=1):
        """``rate`` requests a second at most, ``limit`` in all, the first after ``delay`` s."""
        self.fake, self.urls, self.rate, self.limit, self.delay = fake, urls, rate, limit, delay
        self.rows = rows
        self.answers: Counter = Counter()  # (revision, status) -> count
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        card = json.loads((MODEL_DATA / "model-v1.json").read_text())
        self._ranges = [(f["name"], f["min"], f["max"]) for f in card["features"]]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=10)

    def sent(self, revision: str) -> int:
        return sum(n for (rev, _), n in self.answers.items() if rev == revision)

    def _run(self) -> None:
        rng, credit = np.random.default_rng(11), Counter()
        if self._stop.wait(self.delay):
            return
        with requests.Session() as session:
            for _ in range(self.limit):
                if self._stop.wait(1 / self.rate):
                    return
                percents = parse_traffic(self.fake.traffic(), None).percents
                for revision, percent in percents.items():  # smooth weighted round robin
                    credit[revision] += percent
                revision = max(percents, key=credit.__getitem__)
                credit[revision] -= 100
                batch = [self._row(rng) for _ in range(self.rows)]
                response = session.post(f"{self.urls[revision]}/predict", json=batch, timeout=10)
                self.answers[revision, response.status_code] += 1

    def _row(self, rng: np.random.Generator) -> dict[str, float]:
        row = {name: float(rng.uniform(low, high)) for name, low, high in self._ranges}
        row["CHAS"] = round(row["CHAS"])
        return row
