"""A congested proxy on 127.0.0.1, and a guard for calls that must end in time.

``DripProxy`` forwards every request to ``upstream`` and answers as it does, except the requests
armed with ``drip``: their whole answer (status line, headers, body) comes one byte every
``every`` seconds, as from a proxy that is congested. Each byte arrives long before any socket
read timeout, so only a deadline on the whole call ends the wait. ``login_page`` arms requests to
be answered by the HTML login page of a proxy in front of the API instead.

``ended_within(seconds, call)`` runs ``call`` in a thread and fails the test if it has not ended
after ``seconds``, so a test of a missing deadline fails instead of hanging.
"""

import http.client
import threading
from contextlib import contextmanager
from http import HTTPStatus
from urllib.parse import urlsplit

from tests.support.loopback_server import JsonHandler, serving

LOGIN_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n<body>proxy</body></html>\n"
)
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class DripProxy:
    def __init__(self, upstream: str, every: float = 0.05):
        self.upstream, self.every = urlsplit(upstream), every
        self.url = ""
        self.dripping = threading.Event()  # set once a dripped answer has begun
        self._armed: list[tuple[str, str, str]] = []  # (method, path part, "drip"|"login")
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def drip(self, method: str, path_part: str, times: int = 1) -> None:
        """The next ``times`` requests of ``method`` whose path holds ``path_part`` drip."""
        with self._lock:
            self._armed += [(method, path_part, "drip")] * times

    def login_page(self, method: str, path_part: str, status: int = 200, times: int = 1) -> None:
        """The next ``times`` such requests get a proxy's HTML login page with ``status``."""
        with self._lock:
            self._armed += [(method, path_part, f"login {status}")] * times

    def _take(self, method: str, path: str) -> str | None:
        with self._lock:
            for armed in self._armed:
                if armed[0] == method and armed[1] in path:
                    self._armed.remove(armed)
                    return armed[2]
        return None

    def _forward(self, method: str, path: str, headers, body: bytes) -> bytes:
        """The upstream's whole answer to the request, as raw HTTP/1.1 bytes."""
        upstream = http.client.HTTPConnection(
            self.upstream.hostname, self.upstream.port, timeout=30
        )
        try:
            upstream.request(method, path, body=body or None, headers=dict(headers))
            answer = upstream.getresponse()
            payload = answer.read()
            lines = [f"HTTP/1.1 {answer.status} {answer.reason}"]
            lines += [f"{k}: {v}" for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP]
        finally:
            upstream.close()
        return raw(lines, payload)

    def send_slowly(self, wfile, answer: bytes) -> None:
        """Write ``answer`` a byte at a time until it is all out or the proxy stops."""
        self.dripping.set()
        for index in range(len(answer)):
            if self._stop.wait(self.every):
                return
            try:
                wfile.write(answer[index : index + 1])
                wfile.flush()
            except OSError:  # the client cut the connection: what a deadline does
                return

    @contextmanager
    def running(self):
        try:
            with serving(_handler(self)) as self.url:
                yield self
        finally:
            self._stop.set()


def raw(lines: list[str], payload: bytes) -> bytes:
    head = [*lines, f"Content-Length: {len(payload)}", "Connection: close", "", ""]
    return "\r\n".join(head).encode() + payload


def _handler(proxy: DripProxy):
    class Handler(JsonHandler):
        def _serve(self):
            body = self.body()
            fault = proxy._take(self.command, self.path)
            if fault and fault.startswith("login"):
                status = int(fault.split()[1])
                line = f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"
                page = raw([line, "Content-Type: text/html"], LOGIN_PAGE)
                self.wfile.write(page)
            else:
                answer = proxy._forward(self.command, self.path, self.headers, body)
                if fault == "drip":
                    proxy.send_slowly(self.wfile, answer)
                else:
                    self.wfile.write(answer)
            self.close_connection = True

        do_GET = do_PATCH = do_PUT = do_POST = do_DELETE = _serve

    return Handler


def ended_within(seconds: float, call):
    """``call()``'s result; the test fails if it is still running after ``seconds``."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test below
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still waiting after {seconds:g} s: no deadline bounds it"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
