"""Knative Serving's behaviour on Services and Revisions, without HTTP (``fake_knative_api``
serves it): what the webhook admits and what the controller makes of it.

Like Knative it creates a Revision when the template's name changes (the name must start with
the service's), mirrors ``spec.traffic`` into ``status.traffic`` with revision names resolved
and tag URLs, and keeps ``generation`` and ``observedGeneration``; ``fake_knative_webhook``
decides what it admits. Time is logical: each API request is one tick; revisions
turn Ready, and a Service's status catches up with a change, a chosen number of ticks later.
"""

import copy

from tests.rollout.fake_knative_webhook import admit

IMAGE = "registry.example.com/house-price:1.0"


class FakeServing:
    """Knative Serving in one namespace: Services, their Revisions, and the knobs tests turn."""

    def __init__(self, namespace: str = "house-price"):
        self.namespace = namespace
        self.services: dict[str, dict] = {}
        self.revisions: dict[str, dict] = {}
        self.traffic_history: list[list[dict]] = []  # spec.traffic after each accepted change
        self.revision_ready_after = 0  # ticks until a new revision turns Ready
        self.reconcile_after = 0  # ticks until the Service's status catches up with a change
        self.failing_revisions: dict[str, str] = {}  # revision name -> why it fails
        self.tag_urls: dict[str, str] = {}  # tag -> URL to publish instead of Knative's own
        self.ticks = 0
        self._version = 0
        self._settle_at: dict[str, int] = {}

    def tag_url(self, tag: str, service: str) -> str:
        default = f"http://{tag}-{service}.{self.namespace}.example.com"
        return self.tag_urls.get(tag, default)

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

    def edit_concurrently(self, name="house-price"):
        """Someone else changes the Service (an annotation), so our resourceVersion is stale."""
        service = self.services[name]
        service["metadata"].setdefault("annotations", {})["someone/else"] = str(self.ticks)
        self._stamp(service)

    def update(self, name: str, updated: dict) -> dict:
        """Take ``updated`` as Service ``name`` if the webhook admits it; the controller acts."""
        service = self.services[name]
        admit(service, updated)
        if updated["spec"] != service["spec"]:
            updated["metadata"]["generation"] += 1
            self._settle_at[name] = self.ticks + self.reconcile_after
        self._stamp(updated)
        self.services[name] = updated
        template = updated["spec"]["template"]
        if template["metadata"]["name"] not in self.revisions:
            ready_in = self.revision_ready_after
            self._create_revision(name, template["metadata"]["name"], template["spec"], ready_in)
        self.traffic_history.append(copy.deepcopy(updated["spec"].get("traffic")))
        return self.observe(updated)

    def _stamp(self, resource: dict) -> None:
        self._version += 1
        resource["metadata"]["resourceVersion"] = str(self._version)

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
            "ready_at": self.ticks + ready_in,
        }

    def revision_view(self, revision: dict) -> dict:
        view = copy.deepcopy({k: v for k, v in revision.items() if k != "ready_at"})
        name = revision["metadata"]["name"]
        if self.ticks < revision["ready_at"]:
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
        return self.revision_view(self.revisions[name])["status"]["conditions"][0]["status"]

    def list_revisions(self, selector: str) -> list[dict]:
        key, _, value = selector.partition("=")
        views = [self.revision_view(revision) for revision in self.revisions.values()]
        return [v for v in views if not key or v["metadata"]["labels"].get(key) == value]

    def observe(self, service: dict) -> dict:
        """The controller catches up once the service's settle tick has passed."""
        if self.ticks >= self._settle_at.get(service["metadata"]["name"], 0):
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
