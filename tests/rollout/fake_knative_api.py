"""A fake Kubernetes API server for Knative Serving, over real HTTP on 127.0.0.1.

It serves what the rollout tool uses: GET and PATCH of ``services.serving.knative.dev``, GET
(one or a list) of ``revisions`` in a namespace and a list of their ``pods``, with Knative's
behaviour from
``fake_knative_serving``, ``leases.coordination.k8s.io`` (``fake_leases``), and what ``doctor``
reads besides (``fake_cluster``); a POST that creates answers 201 Created. Like the API
server it answers 409 to a stale ``resourceVersion``, 415 to a patch that is not a JSON merge
patch, errors as ``Status`` objects, and records in ``metadata.managedFields`` which field
manager last wrote which part of a Service's spec, and when. A PATCH with ``?dryRun=All`` is
judged in full (conflict, webhook) and answered, but changes nothing. Faults can be injected for
the next request of a method (``fail``): an HTTP status, a reset connection, a write that applies
but whose answer is lost, an answer slower than the client waits; and concurrent writers.
"""

import copy
import json
import re
import threading
import time
from contextlib import contextmanager, suppress
from urllib.parse import parse_qs, urlsplit

import yaml

from tests.rollout.fake_apiserver import managed_fields, merge_patch, status_of
from tests.rollout.fake_cluster import FakeCluster
from tests.rollout.fake_knative_serving import REGISTRY, FakeServing
from tests.rollout.fake_knative_webhook import ApiError
from tests.rollout.fake_leases import FakeLeases
from tests.support.loopback_server import JsonHandler, serving

DRY_RUN = "?dryRun=All"
PATH = re.compile(
    r"/apis/(?P<group>serving\.knative\.dev|coordination\.k8s\.io)/v1/namespaces/"
    r"(?P<namespace>[^/]+)/(?P<plural>services|revisions|leases)(?:/(?P<name>[^/]+))?"
)
# What ``doctor`` reads besides (``fake_cluster``): discovery, Knative's ConfigMaps,
# SelfSubjectAccessReviews; and the pods of the revisions a wait reads.
CLUSTER = re.compile(
    r"/apis/(?P<group>serving\.knative\.dev)/v1"
    r"|/api/v1/namespaces/(?P<namespace>[^/]+)"
    r"(?:/configmaps/(?P<configmap>[^/]+)|/(?P<pods>pods))"
    r"|/apis/authorization\.k8s\.io/v1/(?P<review>selfsubjectaccessreviews)"
)
FAULTS = ("reset", "lost", "slow")  # besides an HTTP status


class FakeKnative(FakeServing):
    """``FakeServing`` behind the Kubernetes API, with a record of what was asked."""

    def __init__(self, namespace: str = "house-price"):
        super().__init__(namespace)
        self.leases = FakeLeases(namespace, self.next_version)
        self.cluster = FakeCluster(REGISTRY)
        self.requests: list[tuple[str, str]] = []  # (method, path[?dryRun=All]) of each request
        self.patch_bodies: list[dict] = []  # every PATCH of the Service this fake took (not dry)
        self.faults: list[tuple[str, int | str, str]] = []  # see ``fail``
        self.slow_seconds = 2.0  # how late a "slow" answer comes
        self.before_patch: list = []  # callables, one run as each PATCH of a Service arrives
        self.url = ""
        self._lock = threading.Lock()

    def fail(self, method: str, fault: int | str, on: str = "services", times: int = 1) -> None:
        """The next ``times`` requests of ``method`` to ``on`` (services, revisions, leases)
        get ``fault``: an HTTP status (nothing applied), "reset" (the connection is reset before
        anything is applied), "lost" (applied, then the connection is reset: the answer is
        lost), or "slow" (applied, answered after ``slow_seconds``)."""
        assert isinstance(fault, int) or fault in FAULTS, fault
        self.faults += [(method, fault, on)] * times

    def deployment_config(self) -> dict[str, str]:
        """Knative's controller reads the ConfigMap the API serves (``cluster``)."""
        return self.cluster.configmaps["config-deployment"]["data"]

    def patches(self) -> list[str]:
        """The paths of every PATCH of a Service that could change it (no dry runs)."""
        return [
            path
            for method, path in self.requests
            if method == "PATCH" and "/services/" in path and not path.endswith(DRY_RUN)
        ]

    def dry_runs(self) -> list[str]:
        return [path for method, path in self.requests if path.endswith(DRY_RUN)]

    def write_concurrently(self, traffic: list[dict], manager: str = "kn", name="house-price"):
        """Someone else writes the Service's ``spec.traffic``, as kn or kubectl would."""
        self._write(self.services[name], {"spec": {"traffic": traffic}}, manager)

    def spec_patches(self) -> list[dict]:
        """The patches it took that change the spec (traffic, template), not only metadata."""
        return [body for body in self.patch_bodies if "spec" in body]

    def annotation(self, key: str, name: str = "house-price") -> str | None:
        return (self.services[name]["metadata"].get("annotations") or {}).get(key)

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

    def arrived(self, method: str, path: str) -> int | str | None:
        """Count a request in; the fault injected for it, if any (taken off the list)."""
        with self._lock:
            self.ticks += 1
            self.requests.append((method, path))
            for fault in self.faults:
                if fault[0] == method and f"/{fault[2]}" in path:
                    self.faults.remove(fault)
                    return fault[1]
        return None

    def handle(self, method: str, path: str, query: dict, content_type: str, body: bytes):
        with self._lock:
            asked = CLUSTER.fullmatch(path)
            if asked:
                return self._cluster(method, asked, query, body)
            match = PATH.fullmatch(path)
            if not match or match["namespace"] != self.namespace:
                raise ApiError(404, "NotFound", f"the server could not find {path}")
            plural, name = match["plural"], match["name"]
            dry_run = query.get("dryRun")
            if dry_run not in (None, ["All"]):
                raise ApiError(400, "BadRequest", f"Unsupported value: {dry_run[0]!r}: dryRun")
            if plural == "leases":
                return self.leases.handle(method, name, content_type, body)
            if method == "GET" and plural == "revisions" and name is None:
                selector = query.get("labelSelector", [""])[0]
                return {"kind": "RevisionList", "items": self.list_revisions(selector)}
            if method == "GET" and plural == "revisions":
                return self.revision_view(self._find(self.revisions, plural, name))
            if method == "GET":
                return copy.deepcopy(self.observe(self._find(self.services, plural, name)))
            if method == "PATCH" and plural == "services" and name:
                manager = query.get("fieldManager", ["unnamed"])[0]
                service = self._find(self.services, plural, name)
                return self._patch(service, content_type, body, manager, bool(dry_run))
            raise ApiError(405, "MethodNotAllowed", f"{method} is not served on {path}")

    def _cluster(self, method: str, asked: re.Match, query: dict, body: bytes) -> dict:
        if method == "GET" and asked["pods"]:
            self.cluster.authorize("list", "", "pods", asked["namespace"], None)
            selector = query.get("labelSelector", [""])[0]
            pods = self.list_pods(selector) if asked["namespace"] == self.namespace else []
            return {"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": pods}
        if method == "POST" and asked["review"]:
            return self.cluster.review(body)
        if method == "GET" and asked["group"]:
            return self.cluster.discovery(asked["group"])
        if method == "GET" and asked["configmap"]:
            return self.cluster.configmap(asked["namespace"], asked["configmap"])
        raise ApiError(405, "MethodNotAllowed", f"{method} is not served on {asked[0]}")

    def _find(self, store: dict, plural: str, name: str) -> dict:
        if name not in store:
            raise ApiError(404, "NotFound", f'{plural}.serving.knative.dev "{name}" not found')
        return store[name]

    def _patch(self, service: dict, content_type: str, body: bytes, manager: str, dry_run: bool):
        if self.before_patch and not dry_run:
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
        written = self._write(service, patch, manager, dry_run)
        if not dry_run:
            self.patch_bodies.append(patch)
        return copy.deepcopy(written)

    def _write(self, service: dict, patch: dict, manager: str, dry_run: bool = False) -> dict:
        """Merge ``patch`` in; ``manager`` now owns the parts of the spec it set."""
        updated = merge_patch(service, patch)
        updated["metadata"]["managedFields"] = managed_fields(
            service["metadata"].get("managedFields") or [], manager, patch.get("spec") or {}
        )
        return self.update(service["metadata"]["name"], updated, dry_run)


def _handler(fake: FakeKnative):
    class Handler(JsonHandler):
        def _serve(self):
            parts = urlsplit(self.path)
            content_type = (self.headers.get("Content-Type") or "").split(";")[0]
            dry_run = "dryRun" in parse_qs(parts.query)
            fault = fake.arrived(self.command, parts.path + (DRY_RUN if dry_run else ""))
            if fault == "reset":
                return self.reset()
            try:
                if isinstance(fault, int):
                    raise ApiError(fault, "Injected", f"injected fault {fault}")
                query = parse_qs(parts.query)
                answer = fake.handle(self.command, parts.path, query, content_type, self.body())
            except ApiError as exc:
                return self.reply(exc.code, status_of(exc))
            if fault == "lost":
                return self.reset()
            if fault == "slow":
                time.sleep(fake.slow_seconds)
            with suppress(OSError):  # a slow answer: the client may have stopped waiting
                self.reply(201 if self.command == "POST" else 200, answer)

        do_GET = do_PATCH = do_PUT = do_POST = do_DELETE = _serve

    return Handler
