"""The Flask test client's interface over HTTP to a real server, so that one test drives both
ways a request can be answered: Flask's views (``app.test_client()``) and the real server,
whose gateway answers predictions on its lean path and hands the rest to Flask."""

import json as jsonlib

import requests
from werkzeug.wrappers import Response

PATHS = ("flask", "server")  # the test client on Flask's views; the real server over HTTP
REVISION = "house-price-v1"


class ServerClient:
    """``get``, ``post``, ``delete``... as Flask's test client takes them; Werkzeug responses."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def open(self, method, path, data=None, json=None, content_type=None, headers=None):
        # Values without the whitespace around them, as HTTP delivers them (RFC 9110 5.5)
        headers = {name: str(value).strip() for name, value in (headers or {}).items()}
        if json is not None:
            data, content_type = jsonlib.dumps(json), content_type or "application/json"
        if content_type is not None:
            headers["Content-Type"] = content_type
        if isinstance(data, str):
            data = data.encode()  # as Flask's test client sends text: UTF-8
        url = self.url + path
        reply = self.session.request(method, url, data=data, headers=headers, timeout=10)
        return Response(reply.content, reply.status_code, list(reply.headers.items()))

    def __getattr__(self, method):
        if method not in ("get", "post", "put", "delete", "patch", "head", "options"):
            raise AttributeError(method)
        return lambda path, **kwargs: self.open(method.upper(), path, **kwargs)

    def close(self) -> None:
        self.session.close()
