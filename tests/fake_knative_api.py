"""A fake Kubernetes API server that behaves like Knative Serving, over real HTTP on 127.0.0.1.

It serves what the rollout tool uses: GET and PATCH of ``services.serving.knative.dev`` and GET
(one or a list) of ``revisions`` in a namespace. Like Knative it creates a Revision when the
template's name changes (the name must start with the service's), mirrors ``spec.traffic`` into
``status.traffic`` with revision names resolved and tag URLs, keeps ``generation`` and
``observedGeneration``, answers 409 to a stale ``resourceVersion``, 415 to a patch that is not a
JSON merge patch and 422 to what Knative's webhook rejects. Each request is one tick of a logical
clock: revisions turn Ready, and the Service reconciles, a chosen number of ticks later. Faults
(an HTTP status for the next request of a method) and concurrent writers can be injected.
"""

import copy
import json
import re
import threading
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import yaml
from loopback_server import JsonHandler, serving

PATH = re.compile(
    r"/apis/serving\.knative\.dev/v1/namespaces/(?P<namespace>[^/]+)"
    r"/(?P<plural>services|revisions)(?:/(?P<name>[^/]+))?"
)
IMAGE = "registry.example.com/house-price:1.0"


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


class FakeClock:
    """The injectable clock: ``sleep`` only moves time on, and may run a hook first."""

    def __init__(self):
        self.now, self.sleeps, self.on_sleep = 0.0, [], []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        while self.on_sleep:
            self.on_sleep.pop(0)()


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


class FakeKnative:
    """Knative Serving in one namespace, as seen through the Kubernetes API."""

    def __init__(self, namespace: str = "house-price"):
        self.namespace = namespace
        self.services: dict[str, dict] = {}
        self.revisions: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self.traffic_history: list[list[dict]] = []  # spec.traffic after each accepted patch
        self.faults: list[tuple[str, int]] = []  # (method, status): answer the next such request
        self.before_patch: list = []  # callables, one run as each PATCH arrives
        self.revision_ready_after = 0  # ticks until a new revision turns Ready
        self.reconcile_after = 0  # ticks until the Service's status catches up with a patch
        self.failing_revisions: dict[str, str] = {}  # revision name -> why it fails
        self.tag_urls: dict[str, str] = {}  # tag -> URL to publish instead of Knative's own
        self.url = ""
        self._ticks = 0
        self._version = 0
        self._settle_at: dict[str, int] = {}
        self._lock = threading.Lock()

    def tag_url(self, tag: str, service: str) -> str:
        default = f"http://{tag}-{service}.{self.namespace}.example.com"
        return self.tag_urls.get(tag, default)

    # --- set-up and inspection -------------------------------------------------------------
    def add_service(self, name="house-price", revisions=("house-price-v1",), traffic=None):
        """A Service whose template produced ``revisions`` in turn, all Ready."""
        for revision in revisions:
            self._create_revision(name, revision, {"containers": [{"image": IMAGE}]}, ready_in=0)
        template = {
            "metadata": {"name": revisions[-1]},
            "spec": {
                "containerConcurrency": 10,
                "containers": [
                    {
                        "image": IMAGE,
                        "ports": [{"containerPort": 8080}],
                        "env": [{"name": "MODEL_PATH", "value": "/app/model_data/model-v1.onnx"}],
                        "readinessProbe": {"httpGet": {"path": "/readyz"}},
                    }
                ],
            },
        }
        traffic = traffic or [{"revisionName": revisions[0], "percent": 100}]
        self.services[name] = {
            "apiVersion": "serving.knative.dev/v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": self.namespace, "generation": 1},
            "spec": {"template": template, "traffic": traffic},
        }
        self._stamp(self.services[name])
        self._reconcile(self.services[name])
        return self.services[name]

    def traffic(self, name="house-price") -> list[dict]:
        return self.services[name]["spec"].get("traffic")

    def patches(self) -> list[str]:
        return [path for method, path in self.requests if method == "PATCH"]

    def edit_concurrently(self, name="house-price"):
        """Someone else changes the Service (an annotation), so our resourceVersion is stale."""
        service = self.services[name]
        service["metadata"].setdefault("annotations", {})["someone/else"] = str(self._ticks)
        self._stamp(service)

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

    # --- the API ---------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict, content_type: str, body: bytes):
        with self._lock:
            self._ticks += 1
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
                return {"kind": "RevisionList", "items": self._list_revisions(selector)}
            if method == "GET" and plural == "revisions":
                return self._revision_view(self._find(self.revisions, plural, name))
            if method == "GET":
                return copy.deepcopy(self._observe(self._find(self.services, plural, name)))
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
        updated = merge_patch(service, patch)
        self._admit(service, updated)
        if updated["spec"] != service["spec"]:
            updated["metadata"]["generation"] += 1
            self._settle_at[name] = self._ticks + self.reconcile_after
        self._stamp(updated)
        self.services[name] = updated
        template = updated["spec"]["template"]
        if template["metadata"]["name"] not in self.revisions:
            ready_in = self.revision_ready_after
            self._create_revision(name, template["metadata"]["name"], template["spec"], ready_in)
        self.traffic_history.append(copy.deepcopy(updated["spec"].get("traffic")))
        return copy.deepcopy(self._observe(updated))

    def _admit(self, old: dict, new: dict) -> None:
        """Knative's validating webhook, for the rules the rollout tool can break."""
        name, spec = new["metadata"]["name"], new["spec"]
        revision = spec["template"]["metadata"]["name"]
        if not revision.startswith(f"{name}-"):
            _deny(f'"{revision}" must have prefix "{name}-": spec.template.metadata.name')
        old_template = old["spec"]["template"]
        if revision == old_template["metadata"]["name"] and spec["template"] != old_template:
            _deny("Saw the following changes without a name change: spec.template")
        traffic = spec.get("traffic") or []
        total = sum(target.get("percent") or 0 for target in traffic)
        if traffic and total != 100:
            _deny(f"Traffic targets sum to {total}, want 100: spec.traffic")
        tags = [target["tag"] for target in traffic if target.get("tag")]
        for tag in {tag for tag in tags if tags.count(tag) > 1}:
            _deny(f'Multiple definitions for "{tag}": spec.traffic[].tag')
        for target in traffic:
            if target.get("latestRevision") and target.get("revisionName"):
                _deny("may not set revisionName when latestRevision is true: spec.traffic")

    def _stamp(self, resource: dict) -> None:
        self._version += 1
        resource["metadata"]["resourceVersion"] = str(self._version)

    # --- the controller --------------------------------------------------------------------
    def _create_revision(self, service: str, name: str, spec: dict, ready_in: int) -> None:
        self.revisions[name] = {
            "apiVersion": "serving.knative.dev/v1",
            "kind": "Revision",
            "metadata": {
                "name": name,
                "namespace": self.namespace,
                "generation": 1,
                "creationTimestamp": f"2026-01-01T00:{len(self.revisions):02d}:00Z",
                "labels": {
                    "serving.knative.dev/service": service,
                    "serving.knative.dev/configuration": service,
                },
            },
            "spec": copy.deepcopy(spec),
            "ready_at": self._ticks + ready_in,
        }

    def _revision_view(self, revision: dict) -> dict:
        view = copy.deepcopy({k: v for k, v in revision.items() if k != "ready_at"})
        name = revision["metadata"]["name"]
        if self._ticks < revision["ready_at"]:
            condition = {"type": "Ready", "status": "Unknown", "reason": "Deploying"}
        elif name in self.failing_revisions:
            message = self.failing_revisions[name]
            condition = {"type": "Ready", "status": "False", "reason": "Failed", "message": message}
        else:
            condition = {"type": "Ready", "status": "True"}
        view["status"] = {"observedGeneration": 1, "conditions": [condition]}
        return view

    def _ready(self, name: str) -> str:
        if name not in self.revisions:
            return "Missing"
        return self._revision_view(self.revisions[name])["status"]["conditions"][0]["status"]

    def _list_revisions(self, selector: str) -> list[dict]:
        key, _, value = selector.partition("=")
        views = [self._revision_view(revision) for revision in self.revisions.values()]
        return [v for v in views if not key or v["metadata"]["labels"].get(key) == value]

    def _observe(self, service: dict) -> dict:
        """The controller catches up once the service's settle tick has passed."""
        if self._ticks >= self._settle_at.get(service["metadata"]["name"], 0):
            self._reconcile(service)
        return service

    def _reconcile(self, service: dict) -> None:
        name, spec = service["metadata"]["name"], service["spec"]
        latest = spec["template"]["metadata"]["name"]
        status = service.get("status") or {}
        latest_ready = (
            latest if self._ready(latest) == "True" else status.get("latestReadyRevisionName")
        )
        routed, problems = [], []
        for target in spec.get("traffic") or [{"latestRevision": True, "percent": 100}]:
            revision = target.get("revisionName") or latest_ready
            entry = {"revisionName": revision, "percent": target.get("percent") or 0}
            entry["latestRevision"] = bool(target.get("latestRevision"))
            if target.get("tag"):
                entry |= {"tag": target["tag"], "url": self.tag_url(target["tag"], name)}
            routed.append(entry)
            state = self._ready(revision)
            if state != "True":
                problems.append((state, f'Revision "{revision}" referenced in traffic is {state}'))
        states = {state for state, _ in problems}
        ready = "False" if states & {"False", "Missing"} else ("Unknown" if states else "True")
        condition = {"type": "Ready", "status": ready}
        if problems:
            condition["message"] = "; ".join(message for _, message in problems)
        service["status"] = {
            "observedGeneration": service["metadata"]["generation"],
            "url": f"http://{name}.{self.namespace}.example.com",
            "latestCreatedRevisionName": latest,
            "latestReadyRevisionName": latest_ready,
            "traffic": routed,
            "conditions": [condition],
        }


def _deny(message: str):
    raise ApiError(
        422,
        "Invalid",
        f'admission webhook "validation.webhook.serving.knative.dev" denied: {message}',
    )


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
