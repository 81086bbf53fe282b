"""A revision behind its tag URL, on 127.0.0.1: answers ``POST /predict`` like the predictor, with
the real model's predictions (``function.model``), so the quality gate measures a real model.

It names itself in ``X-Revision``; ``status`` makes it fail on demand, ``revision`` makes it
answer as another revision would (a route pointing at the wrong place).
"""

import json
from contextlib import contextmanager

import numpy as np

from function.model import Model
from tests.support.loopback_server import JsonHandler, serving
from tests.support.repo import FEATURES, MODEL_DATA


class FakeTagRoute:
    def __init__(self, revision: str = "house-price-v2", model: str = "v2"):
        self.revision, self.status, self.url = revision, 200, ""
        self.model = Model(MODEL_DATA / f"model-{model}.onnx").load()
        self.bodies: list = []  # every request body, decoded

    def answer(self, body: bytes) -> tuple[int, dict]:
        rows = json.loads(body)
        self.bodies.append(rows)
        if not isinstance(rows, list) or any(set(row) != set(FEATURES) for row in rows):
            return 400, {"error": "expected a list of records with " + ", ".join(FEATURES)}
        if self.status != 200:
            return self.status, {"error": "injected failure"}
        matrix = np.array([[row[name] for name in FEATURES] for row in rows], dtype=np.float64)
        return 200, {"prediction": self.model.predict(matrix).tolist()}

    @contextmanager
    def running(self):
        """Serve on 127.0.0.1 (``self.url``) for the duration of the block."""
        with serving(_handler(self)) as self.url:
            yield self


def _handler(route: FakeTagRoute):
    class Handler(JsonHandler):
        def do_POST(self):
            code, answer = route.answer(self.body()) if self.path == "/predict" else (404, {})
            headers = {"X-Revision": route.revision, "X-Model-Version": route.model.version}
            self.reply(code, answer, headers)

    return Handler
