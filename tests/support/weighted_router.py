"""A test-only stand-in for a Knative route on 127.0.0.1: each request goes to one backend (a pod),
drawn at random with the given weights, as a route splitting traffic between revisions does."""

import http.client
import random
import threading
from collections import Counter
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from tests.support.loopback_server import serving

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "trailer"}


class Route:
    """Weighted random choice of backend URLs, and a count of the requests each one got."""

    def __init__(self, weights: dict[str, float], seed: int = 0):
        self.urls, self.weights = list(weights), list(weights.values())
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.sent: Counter[tuple[str, str]] = Counter()  # (backend URL, "METHOD path")

    def pick(self, request_line: str) -> str:
        with self.lock:
            [url] = self.rng.choices(self.urls, self.weights)
            self.sent[url, request_line] += 1
        return url

    def count(self, request_line: str) -> Counter[str]:
        """Requests per backend URL for one kind of request, e.g. "POST /predict"."""
        return Counter({url: n for (url, line), n in self.sent.items() if line == request_line})


@contextmanager
def routing(weights: dict[str, float], seed: int = 0):
    """Yield (the route's base URL, the Route) for backends {base URL: weight}."""
    route = Route(weights, seed)

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a browser and locust expect

        def forward(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            url = route.pick(f"{self.command} {self.path}")
            connections = self.__dict__.setdefault("connections", {})  # kept per client connection
            if url not in connections:
                backend = urlsplit(url)
                connections[url] = http.client.HTTPConnection(backend.hostname, backend.port, 30)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            connections[url].request(self.command, self.path, body, headers)
            answer = connections[url].getresponse()
            payload = answer.read()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in HOP_BY_HOP | {"content-length"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = forward

        def finish(self):
            super().finish()
            for connection in self.__dict__.get("connections", {}).values():
                connection.close()

        def log_message(self, *args):
            pass

    with serving(Forward) as url:
        yield url, route
