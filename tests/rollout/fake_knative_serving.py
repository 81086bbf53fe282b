"""Knative Serving's behaviour on Services and Revisions, without HTTP (``fake_knative_api``
serves it): what the webhook admits and what the controller makes of it.

Like Knative it creates a Revision when the template's name changes (the name must start with
the service's), refuses to route when the name is an existing revision's with another spec
(RevisionNameTaken), mirrors ``spec.traffic`` into ``status.traffic`` with revision names
resolved and tag URLs, and keeps ``generation`` and ``observedGeneration``;
``fake_knative_webhook`` decides what it admits. Time is logical: each API request is one tick;
revisions turn Ready, and a Service's status catches up with a change, a chosen number of ticks
later.
"""

import copy

from tests.release.manifests.knative_manifests import cluster_limits
from tests.rollout.fake_knative_conditions import configuration_failed, route_not_ready
from tests.rollout.fake_knative_revisions import FakeRevisions
from tests.rollout.fake_knative_webhook import admit

REGISTRY = "registry.example.com"
IMAGE = f"{REGISTRY}/house-price:1.0"


class FakeServing(FakeRevisions):
    """Knative Serving in one namespace: Services, their Revisions, and the knobs tests turn."""

    def __init__(self, namespace: str = "house-price"):
        super().__init__(namespace)
        self.services: dict[str, dict] = {}
        self.traffic_history: list[list[dict]] = []  # spec.traffic after each change of spec
        self.reconcile_after = 0  # ticks until the Service's status catches up with a change
        self.tag_urls: dict[str, str] = {}  # tag -> URL to publish instead of Knative's own
        self.service_url: str | None = None  # the route's URL instead of Knative's own
        self.limits = cluster_limits()  # the cluster settings the webhook checks against
        self._version = 0
        self._settle_at: dict[str, int] = {}
        self._name_taken: dict[str, str | None] = {}  # service -> revision name it cannot use

    def tag_url(self, tag: str, service: str) -> str:
        default = f"http://{tag}-{service}.{self.namespace}.example.com"
        return self.tag_urls.get(tag, default)

    def add_service(
        self,
        name="house-price",
        revisions=("house-price-v1",),
        traffic=None,
        model_version="1",
        annotations=None,
    ):
        """A Service whose template (``IMAGE``, the model, ``annotations``) produced
        ``revisions``, all Ready."""
        model = f"/app/model_data/model-v{model_version}.onnx"
        template = {
            "metadata": {"name": revisions[-1], "annotations": dict(annotations or {})},
            "spec": {
                "containerConcurrency": 10,
                "containers": [
                    {
                        "image": IMAGE,
                        "ports": [{"containerPort": 8080}],
                        "env": [{"name": "MODEL_PATH", "value": model}],
                        "readinessProbe": {"httpGet": {"path": "/readyz"}},
                    }
                ],
            },
        }
        for revision in revisions:
            self._create_revision(name, revision, template, ready_in=0)
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

    def update(self, name: str, updated: dict, dry_run: bool = False) -> dict:
        """Take ``updated`` as Service ``name`` if the webhook admits it; the controller acts.

        A dry run is judged the same way but only answered: nothing is stored or created.
        """
        service = self.services[name]
        admit(service, updated, self.limits)
        updated = copy.deepcopy(updated)
        changed = updated["spec"] != service["spec"]  # metadata alone makes no new generation
        if changed:
            updated["metadata"]["generation"] += 1
        if dry_run:
            return updated | {"status": copy.deepcopy(service.get("status"))}
        if changed:
            self._settle_at[name] = self.ticks + self.reconcile_after
        self._stamp(updated)
        self.services[name] = updated
        template = updated["spec"]["template"]
        revision = template["metadata"]["name"]
        if revision not in self.revisions:
            self._create_revision(name, revision, template, self.revision_ready_after)
        taken = self.revisions[revision]["spec"] != template["spec"]
        self._name_taken[name] = revision if taken else None
        if changed:
            self.traffic_history.append(copy.deepcopy(updated["spec"].get("traffic")))
        return self.observe(updated)

    def next_version(self) -> str:
        """The next ``resourceVersion``: one counter for every kind, as etcd's revision is."""
        self._version += 1
        return str(self._version)

    def _stamp(self, resource: dict) -> None:
        resource["metadata"]["resourceVersion"] = self.next_version()

    def observe(self, service: dict) -> dict:
        """The controller catches up once the service's settle tick has passed."""
        if self.ticks >= self._settle_at.get(service["metadata"]["name"], 0):
            self._reconcile(service)
        return service

    def _reconcile(self, service: dict) -> None:
        name, spec = service["metadata"]["name"], service["spec"]
        latest = spec["template"]["metadata"]["name"]
        status = service.get("status") or {}
        if self._name_taken.get(name):
            message = f'The revision name "{latest}" is taken by a conflicting Revision'
            message += ", so traffic will not be migrated"
            condition = {"type": "Ready", "status": "False", "reason": "RevisionNameTaken"}
            generation = service["metadata"]["generation"]
            service["status"] = status | {"observedGeneration": generation}
            service["status"]["conditions"] = [condition | {"message": message}]
            return
        made, message = self._ready(latest)
        latest_ready = latest if made == "True" else status.get("latestReadyRevisionName")
        # ConfigurationsReady (configuration_lifecycle.go:94-101), then RoutesReady
        problems = [("False", *configuration_failed(latest, message))] if made == "False" else []
        routed = []
        for target in spec.get("traffic") or [{"latestRevision": True, "percent": 100}]:
            revision = target.get("revisionName") or latest_ready
            entry = {"revisionName": revision, "percent": target.get("percent") or 0}
            entry["latestRevision"] = bool(target.get("latestRevision"))
            if target.get("tag"):
                entry |= {"tag": target["tag"], "url": self.tag_url(target["tag"], name)}
            routed.append(entry)
            state, _ = self._ready(revision)
            if state == "Missing":
                said = f'Revision "{revision}" referenced in traffic not found.'
                problems.append(("False", "RevisionMissing", said))
            elif state != "True":
                problems.append((state, *route_not_ready(revision, failed=state == "False")))
        failed = [problem for problem in problems if problem[0] == "False"]
        condition = {"type": "Ready", "status": "True"}
        if problems:  # False trumps Unknown (knative/pkg apis/condition_set.go:327-339)
            state, reason, said = (failed or problems)[0]
            condition = {"type": "Ready", "status": state, "reason": reason, "message": said}
        service["status"] = {
            "observedGeneration": service["metadata"]["generation"],
            "url": self.service_url or f"http://{name}.{self.namespace}.example.com",
            "latestCreatedRevisionName": latest,
            "latestReadyRevisionName": latest_ready,
            "traffic": routed,
            "conditions": [condition],
        }
