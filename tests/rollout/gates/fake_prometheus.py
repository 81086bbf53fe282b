"""A stand-in for Prometheus's HTTP API on 127.0.0.1, for the answers a real one gives only when
broken: garbage, errors, an empty scrape. ``answers`` maps a path to (status, body); a body that
is bytes is sent as it is, anything else as JSON; after ``broken_after`` requests every path
answers ``broken``."""

from contextlib import contextmanager

from tests.support.loopback_server import JsonHandler, serving

BUILD_INFO = {"status": "success", "data": {"version": "2.42.0"}}


def vector(*series: tuple[dict, float]) -> dict:
    result = [{"metric": labels, "value": [1700000000.0, str(value)]} for labels, value in series]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


class FakePrometheus:
    def __init__(self, answers: dict, broken=None, broken_after: int | None = None):
        self.answers, self.broken, self.broken_after = answers, broken, broken_after
        self.paths: list[str] = []
        self.url = ""

    def answer(self, path: str):
        self.paths.append(path)
        if self.broken_after is not None and len(self.paths) > self.broken_after:
            return self.broken
        return self.answers.get(path.split("?")[0], (404, b"404 page not found"))

    @contextmanager
    def running(self):
        with serving(_handler(self)) as self.url:
            yield self


def _handler(fake: FakePrometheus):
    class Handler(JsonHandler):
        def do_GET(self):
            status, body = fake.answer(self.path)
            if not isinstance(body, bytes):
                self.reply(status, body)
                return
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
