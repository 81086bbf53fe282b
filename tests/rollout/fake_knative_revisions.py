"""Knative Revisions in the fake API: made from a Service's template, immutable, Ready (or
failed, on demand) a chosen number of ticks after they were made. Time is logical: each API
request is one tick."""

import copy


class FakeRevisions:
    """The revisions of one namespace, and the knobs tests turn on them."""

    def __init__(self, namespace: str):
        self.namespace = namespace
        self.revisions: dict[str, dict] = {}
        self.revision_ready_after = 0  # ticks until a new revision turns Ready
        self.failing_revisions: dict[str, str] = {}  # revision name -> why it fails
        self.ticks = 0

    def _create_revision(self, service: str, name: str, template: dict, ready_in: int) -> None:
        """A revision of ``template``: its spec and annotations, as Knative copies them."""
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
                "annotations": copy.deepcopy(template.get("metadata", {}).get("annotations", {})),
            },
            "spec": copy.deepcopy(template["spec"]),
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
