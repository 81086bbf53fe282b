"""A fake Kubernetes API server for Knative Serving, over real HTTP on 127.0.0.1.

It serves what the rollout tool uses: GET and PATCH of ``services.serving.knative.dev`` and GET
(one or a list) of ``revisions`` in a namespace, with Knative's behaviour from
``fake_knative_serving``. Like the API server it answers 409 to a stale ``resourceVersion``, 415
to a patch that is not a JSON merge patch, and errors as ``Status`` objects. Faults (an HTTP
status for the next request of a method) and concurrent writers can be injected.
"""

import copy
import json
import re
import threading
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import yaml

from tests.rollout.fake_knative_serving import FakeServing
from tests.rollout.fake_knative_webhook import ApiError
from tests.support.loopback_server import JsonHandler, serving

PATH = re.compile(
    r"/apis/serving\.knative\.dev/v1/namespaces/(?P<namespace>[^/]+)"
    r"/(?P<plural>services|revisions)(?:/(?P<name>[^/]+))?"
)


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch: objects merge, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


class FakeKnative(FakeServing):
    """``FakeServing`` behind the Kubernetes API, with a record of what was asked."""

    def __init__(self, namespace: str = "house-price"):
        super().__init__(namespace)
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self.faults: list[tuple[str, int]] = []  # (method, status): answer the next such request
        self.before_patch: list = []  # callables, one run as each PATCH arrives
        self.url = ""
        self._lock = threading.Lock()

    def patches(self) -> list[str]:
        return [path for method, path in self.requests if method == "PATCH"]

    def kubeconfig(self, path) -> str:
        """A kubeconfig file pointing at this server; returns its path."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": {"token": "fake-token"}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}],
            "current-context": "fake",
        }
        path.write_text(yaml.safe_dump(config))
        return str(path)

    @classmethod
    @contextmanager
    def started(cls, **service):
        """A fake with one Service (``add_service(**service)``), served for the block."""
        fake = cls()
        fake.add_service(**service)
        with fake.running():
            yield fake

    @contextmanager
    def running(self):
        """Serve on 127.0.0.1 (``self.url``) for the duration of the block."""
        with serving(_handler(self)) as self.url:
            yield self

    def handle(self, method: str, path: str, query: dict, content_type: str, body: bytes):
        with self._lock:
            self.ticks += 1
            self.requests.append((method, path))
            for fault in self.faults:
                if fault[0] == method:
                    self.faults.remove(fault)
                    raise ApiError(fault[1], "Injected", f"injected fault {fault[1]}")
            match = PATH.fullmatch(path)
            if not match or match["namespace"] != self.namespace:
                raise ApiError(404, "NotFound", f"the server could not find {path}")
            plural, name = match["plural"], match["name"]
            if method == "GET" and plural == "revisions" and name is None:
                selector = query.get("labelSelector", [""])[0]
                return {"kind": "RevisionList", "items": self.list_revisions(selector)}
            if method == "GET" and plural == "revisions":
                return self.revision_view(self._find(self.revisions, plural, name))
            if method == "GET":
                return copy.deepcopy(self.observe(self._find(self.services, plural, name)))
            if method == "PATCH" and plural == "services" and name:
                return self._patch(self._find(self.services, plural, name), content_type, body)
            raise ApiError(405, "MethodNotAllowed", f"{method} is not served on {path}")

    def _find(self, store: dict, plural: str, name: str) -> dict:
        if name not in store:
            raise ApiError(404, "NotFound", f'{plural}.serving.knative.dev "{name}" not found')
        return store[name]

    def _patch(self, service: dict, content_type: str, body: bytes) -> dict:
        if self.before_patch:
            self.before_patch.pop(0)()
        if content_type != "application/merge-patch+json":
            raise ApiError(415, "UnsupportedMediaType", f"{content_type} is not supported")
        patch = json.loads(body)
        sent = (patch.get("metadata") or {}).get("resourceVersion")
        name = service["metadata"]["name"]
        if sent and sent != service["metadata"]["resourceVersion"]:
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on services.serving.knative.dev "{name}": '
                "the object has been modified; please apply your changes to the latest version",
            )
        return copy.deepcopy(self.update(name, merge_patch(service, patch)))


def _handler(fake: FakeKnative):
    class Handler(JsonHandler):
        def _serve(self):
            parts = urlsplit(self.path)
            content_type = (self.headers.get("Content-Type") or "").split(";")[0]
            try:
                query = parse_qs(parts.query)
                answer = fake.handle(self.command, parts.path, query, content_type, self.body())
                self.reply(200, answer)
            except ApiError as exc:
                self.reply(exc.code, _status(exc))

        do_GET = do_PATCH = do_PUT = do_POST = do_DELETE = _serve

    return Handler


def _status(exc: ApiError) -> dict:
    """The body of a failed request, as the Kubernetes API server writes it."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": exc.message,
        "reason": exc.reason,
        "code": exc.code,
    }
