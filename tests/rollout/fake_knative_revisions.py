"""Knative Revisions in the fake API: made from a Service's template, immutable, deploying for a
chosen number of ticks after they were made, then Ready; or, on demand, through the states a
``story`` tells, or failed for good. Their conditions are Knative 1.23's
(``fake_knative_conditions``). Each revision has one pod, as the kubelet reports it in the same
state: its user container and Knative's queue-proxy, running when the revision is Ready, else
the user container waiting with the case's reason and message (none while it is unscheduled).
What the controller copies from an unscheduled pod follows ``config-deployment`` as it is set
(``deployment_config``: the fake API's ConfigMap). Time is logical: each API request is one tick."""

import copy

from tests.rollout.fake_knative_conditions import DEPLOYING_CASE, FALSE, READY, TRUE, Case

QUEUE_PROXY_IMAGE = "gcr.io/knative-releases/knative.dev/serving/cmd/queue@sha256:0123abcd"


class FakeRevisions:
    """The revisions of one namespace, and the knobs tests turn on them."""

    def __init__(self, namespace: str):
        self.namespace = namespace
        self.revisions: dict[str, dict] = {}
        self.revision_ready_after = 0  # ticks until a new revision turns Ready
        self.failing_revisions: dict[str, Case] = {}  # revision name -> how it failed, for good
        # revision name -> (from which tick, [(ticks, state), ...]): see ``story``
        self.stories: dict[str, tuple[int | None, list[tuple[int, Case]]]] = {}
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
            "made_at": self.ticks,
            "ready_at": self.ticks + ready_in,
        }

    def story(self, name: str, *states: tuple[int, Case]) -> None:
        """Revision ``name`` goes through ``states`` (each for its number of ticks) from now on,
        or from when it is made if it does not exist yet; then it is Ready."""
        self.stories[name] = (self.ticks if name in self.revisions else None, list(states))

    def revision_view(self, revision: dict) -> dict:
        hidden = ("made_at", "ready_at")
        view = copy.deepcopy({k: v for k, v in revision.items() if k not in hidden})
        conditions = self._case(revision).conditions(self._always_schedulable())
        view["status"] = {"observedGeneration": 1, "conditions": conditions}
        return view

    def _case(self, revision: dict) -> Case:
        name = revision["metadata"]["name"]
        if name in self.failing_revisions:
            return self.failing_revisions[name]
        begun, states = self.stories.get(name, (None, []))
        age = self.ticks - (revision["made_at"] if begun is None else begun)
        for ticks, case in states:
            if age < ticks:
                return case
            age -= ticks
        return DEPLOYING_CASE if self.ticks < revision["ready_at"] else READY

    def deployment_config(self) -> dict[str, str]:
        """config-deployment's data as Knative's controller reads it (empty: its defaults)."""
        return {}

    def _always_schedulable(self) -> bool:
        """``pod-is-always-schedulable`` as Knative reads it: Go's strconv.ParseBool, false when
        unset (pkg/deployment/config.go:218; config/core/configmaps/deployment.yaml:146-153)."""
        value = self.deployment_config().get("pod-is-always-schedulable", "false")
        return value in ("1", "t", "T", "TRUE", "true", "True")

    def pod_view(self, revision: dict) -> dict:
        """The revision's pod as the API server serves it: labels as Knative's Deployment puts
        them, status as the kubelet writes it (core/v1 PodStatus, ContainerStatus)."""
        name, case = revision["metadata"]["name"], self._case(revision)
        pod = f"{name}-deployment-5d8f7c9b6-x2k4q"  # <deployment>-<template hash>-<suffix>
        user = revision["spec"]["containers"][0]
        ready = case == READY
        scheduled = case.unscheduled is None
        labels = revision["metadata"]["labels"] | {"serving.knative.dev/revision": name}
        status = {
            "phase": "Running" if ready else "Pending",
            "conditions": [
                {"type": "PodScheduled", "status": TRUE}
                if scheduled
                else {"type": "PodScheduled", "status": FALSE} | _said(*case.unscheduled)
            ],
        }
        if scheduled:
            if ready:
                state = {"running": {"startedAt": "2026-01-01T00:00:10Z"}}
            else:
                reason, message = case.waiting
                message = message.replace("{pod}", f"{pod}_{self.namespace}({pod}-uid)")
                state = {"waiting": _said(reason, message)}
            status["containerStatuses"] = [
                _container(user.get("name") or "user-container", user["image"], ready, state),
                _container("queue-proxy", QUEUE_PROXY_IMAGE, ready, {"running": {}}),
            ]
        metadata = {"name": pod, "namespace": self.namespace, "labels": labels}
        return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "status": status}

    def list_pods(self, selector: str) -> list[dict]:
        key, _, value = selector.partition("=")
        views = [self.pod_view(revision) for revision in self.revisions.values()]
        return [v for v in views if not key or v["metadata"]["labels"].get(key) == value]

    def _ready(self, name: str) -> tuple[str, str]:
        """The revision's Ready status ("Missing" if there is none) and message."""
        if name not in self.revisions:
            return "Missing", ""
        view = self.revision_view(self.revisions[name])
        ready = next(c for c in view["status"]["conditions"] if c["type"] == "Ready")
        return ready["status"], ready.get("message", "")

    def list_revisions(self, selector: str) -> list[dict]:
        key, _, value = selector.partition("=")
        views = [self.revision_view(revision) for revision in self.revisions.values()]
        return [v for v in views if not key or v["metadata"]["labels"].get(key) == value]


def _said(reason: str, message: str) -> dict:
    """``reason`` and ``message``, each left out when empty (``omitempty``, as the API does)."""
    return ({"reason": reason} if reason else {}) | ({"message": message} if message else {})


def _container(name: str, image: str, ready: bool, state: dict) -> dict:
    return {
        "name": name,
        "image": image,
        "imageID": "",
        "ready": ready,
        "restartCount": 0,
        "started": "running" in state,
        "state": state,
    }
