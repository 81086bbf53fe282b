"""A revision behind its tag URL, on 127.0.0.1: answers ``POST /predict`` like the predictor.

It names itself in ``X-Revision``; ``status`` makes it fail on demand, ``revision`` makes it
answer as another revision would (a route pointing at the wrong place).
"""

import json
from contextlib import contextmanager

from tests.support.loopback_server import JsonHandler, serving
from tests.support.repo import FEATURES


class FakeTagRoute:
    def __init__(self, revision: str = "house-price-v2"):
        self.revision, self.status, self.url = revision, 200, ""
        self.bodies: list = []  # every request body, decoded

    def answer(self, body: bytes) -> tuple[int, dict]:
        rows = json.loads(body)
        self.bodies.append(rows)
        if not isinstance(rows, list) or any(set(row) != set(FEATURES) for row in rows):
            return 400, {"error": "expected a list of records with " + ", ".join(FEATURES)}
        if self.status != 200:
            return self.status, {"error": "injected failure"}
        return 200, {"prediction": [24.0] * len(rows)}

    @contextmanager
    def running(self):
        """Serve on 127.0.0.1 (``self.url``) for the duration of the block."""
        with serving(_handler(self)) as self.url:
            yield self


def _handler(route: FakeTagRoute):
    class Handler(JsonHandler):
        def do_POST(self):
            code, answer = route.answer(self.body()) if self.path == "/predict" else (404, {})
            self.reply(code, answer, {"X-Revision": route.revision, "X-Model-Version": "v2"})

    return Handler
