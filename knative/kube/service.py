"""Knative Services and Revisions through the official ``kubernetes`` client.

Every call is bounded and retried as ``calls`` says. Every write is one JSON merge patch carrying
``metadata.resourceVersion``, so a concurrent change answers 409 instead of being overwritten; a
409 is re-read and planned again a bounded number of times (``_without_conflict``). A write
that fails, or whose answer is lost, is read back: if the Service holds what was sent, the
write is done; else
``WriteFailed`` carries what the API holds, so nobody reports a split it did not read. While a
revision is not Ready, its pods are read too (``waiting.pods_state``), unless listing pods is
forbidden: then Knative's conditions alone are judged, as said once.
"""

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from kubernetes import client

from knative.errors import RolloutError, WriteFailed
from knative.kube.calls import Calls
from knative.kube.waiting import State, pods_state, state_of, wait_ready

GROUP, VERSION = "serving.knative.dev", "v1"
CONFLICT_RETRIES = 5
FIELD_MANAGER = "knative-rollout"  # and the lease holder: who wrote, in managedFields
MERGE_PATCH = "application/merge-patch+json"
# A Service's reasons that are about its revisions (configuration_lifecycle.go:94-110,
# route_lifecycle.go:126-181 of knative/serving 1.23): only as true as its last reconcile.
REVISION_REASONS = {"RevisionFailed", "RevisionMissing"}


class KnativeService:
    """One Knative Service and its revisions in one namespace."""

    def __init__(
        self,
        api_client: client.ApiClient,
        namespace: str,
        name: str,
        calls: Calls | None = None,
        holder: str = "",
    ) -> None:
        self.namespace, self.name = namespace, name
        self.manager = f"{FIELD_MANAGER} {holder}".strip()[:128]  # the API's limit
        self.calls = calls or Calls(time)
        self._api = client.CustomObjectsApi(api_client)
        self._core = client.CoreV1Api(api_client)
        self._pods_listed = True  # until the API forbids it

    def get(self) -> dict:
        return self._read()

    def find(self) -> dict | None:
        """The Service, or None if there is none."""
        return self._read(none_on=404)

    def _read(self, **options: int) -> Any:
        where = self._where("services")
        read = self._api.get_namespaced_custom_object
        return self.calls("read service", read, *where, self.name, **options)

    def revision(self, name: str) -> dict | None:
        """The revision called ``name``, or None if there is none."""
        where = self._where("revisions")
        read = self._api.get_namespaced_custom_object
        return self.calls(f"read revision {name}", read, *where, name, none_on=404)

    def revisions(self) -> list[dict]:
        """The service's revisions, oldest first."""
        selector = f"serving.knative.dev/service={self.name}"
        listing = self._api.list_namespaced_custom_object
        found = self.calls(
            "list revisions", listing, *self._where("revisions"), label_selector=selector
        )
        return sorted(found["items"], key=_age)

    def pods(self, revision: str) -> list[client.V1Pod] | None:
        """The pods of revision ``revision``; None if this identity may not list pods, which is
        said once and not asked again."""
        if not self._pods_listed:
            return None
        selector = f"serving.knative.dev/revision={revision}"
        listing, doing = self._core.list_namespaced_pod, f"list pods of {revision}"
        found = self.calls(doing, listing, self.namespace, label_selector=selector, none_on=403)
        if found is None:
            self._pods_listed = False
            print(
                f"may not list pods in {self.namespace} (403 Forbidden): judging by Knative's "
                "conditions alone, which name an image that cannot be pulled only after the "
                "revision's progress deadline (600 s by default)"
            )
            return None
        return found.items

    def update(self, change: Callable[[dict], dict], check: Callable[[dict], None]) -> dict:
        """Merge-patch ``change(service)`` (a ``spec`` fragment) onto the freshly read Service.

        ``check(service)`` runs on every fresh read before a patch, and may stop it. Returns the
        Service as the API holds it after the write.
        """
        read = [self.get()]  # the Service as last read: after a conflict, read back

        def attempt() -> dict | None:
            service = read[0]
            check(service)
            sent = change(service)
            try:
                patched = self._patch("patch service", service, {"spec": sent})
            except RolloutError as exc:
                read[0] = self._read_back(exc)
                if not _holds(read[0]["spec"], sent):
                    raise WriteFailed(str(exc), read[0]) from None
                return read[0]  # it landed: only its answer was lost
            if patched is not None:
                return patched
            read[0] = self._read_back(RolloutError("could not patch service: 409 Conflict"))
            # the repeat of a write whose answer was lost meets itself
            return read[0] if _holds(read[0]["spec"], sent) else None

        return self._without_conflict(attempt, lambda: read[0])

    def annotate(self, key: str, value: str) -> dict:
        """Set one annotation (metadata only: no new generation, no new revision)."""
        body = {"metadata": {"annotations": {key: value}}}
        return self._without_conflict(lambda: self._patch("annotate service", self.get(), body))

    def dry_run(self, change: Callable[[dict], dict]) -> dict:
        """What the API server and Knative's admission webhook make of ``update(change)``.

        The patch goes with ``dryRun=All``: judged in full and answered with the Service it
        would make, but nothing is stored. A rejection raises with their message.
        """

        def attempt() -> dict | None:
            service = self.get()
            doing = "check the patch with the API server (dry run)"
            return self._patch(doing, service, {"spec": change(service)}, dry_run="All")

        return self._without_conflict(attempt)

    def _without_conflict(
        self,
        attempt: Callable[[], dict | None],
        last_read: Callable[[], dict | None] = lambda: None,
    ) -> dict:
        """``attempt()`` again while it meets a conflict (None), ``CONFLICT_RETRIES`` times in
        all; then ``WriteFailed`` with the Service as ``last_read`` (None: not kept)."""
        for _ in range(CONFLICT_RETRIES):
            done = attempt()
            if done is not None:
                return done
        kept_changing = f"service {self.name} kept changing ({CONFLICT_RETRIES} conflicts in a row)"
        raise WriteFailed(kept_changing, last_read())

    def _patch(self, doing: str, service: dict, body: dict, **options: str) -> dict | None:
        """One merge patch of ``body`` onto ``service`` as read, with its resourceVersion; None
        on a conflict (409)."""
        version = {"resourceVersion": service["metadata"]["resourceVersion"]}
        return self.calls(
            doing,
            self._api.patch_namespaced_custom_object,
            *self._where("services"),
            self.name,
            body | {"metadata": body.get("metadata", {}) | version},
            _content_type=MERGE_PATCH,
            field_manager=self.manager,
            none_on=409,
            **options,
        )

    def _read_back(self, failure: RolloutError) -> dict:
        """The Service read again after a write that failed or met a conflict."""
        try:
            return self.get()
        except RolloutError as unread:
            raise WriteFailed(f"{failure}; reading it back failed too ({unread})", None) from None

    def wait(self, read: Callable[[], dict | None], what: str, timeout: float, clock: Any) -> dict:
        """Poll ``read`` until it is Ready, fails for good, or ``timeout`` seconds pass on
        ``clock`` (``waiting.wait_ready``); a Service waits as long as its revisions do."""
        return wait_ready(read, what, timeout, clock, self._held_up_by)

    def _held_up_by(self, resource: dict) -> State | None:
        """For a Revision not Ready: what its pods say, if Knative says nothing yet. For a
        Service not Ready: the state of a revision it routes or made last that is not Ready
        either (a failed one first), which Knative's message on the Service hides. When it
        blames its revisions and they are all Ready now, it is only behind them."""
        if resource.get("kind") == "Revision":
            return self._judged(resource)
        status = resource.get("status") or {}
        observed = status.get("observedGeneration") == resource["metadata"].get("generation")
        if resource.get("kind") != "Service" or not observed:
            return None  # its status is of an earlier spec: it names earlier revisions
        names = {target.get("revisionName") for target in status.get("traffic") or []}
        names.add(status.get("latestCreatedRevisionName"))
        held = [
            replace(state, message=f"revision {name}: {state.message or state.reason}")
            for name in sorted(filter(None, names))
            if not (state := self._judged(self.revision(name))).ready
        ]
        if held:
            return next((state for state in held if state.failed), held[0])
        if state_of(resource).reason in REVISION_REASONS:
            return State(False, False, "", "its revisions are Ready, Knative is catching up")
        return None

    def _judged(self, revision: dict | None) -> State:
        """Knative's state of ``revision``; while Knative waits, its pods' if they will not
        start (``waiting.pods_state``)."""
        state = state_of(revision)
        if revision is None or state.ready or state.failed:
            return state
        pods = self.pods(revision["metadata"]["name"])
        return (pods_state(pods) if pods else None) or state

    def _where(self, plural: str) -> tuple[str, str, str, str]:
        return GROUP, VERSION, self.namespace, plural


def _age(resource: dict) -> tuple[str, str]:
    return resource["metadata"].get("creationTimestamp") or "", resource["metadata"]["name"]


def _holds(actual: Any, sent: Any) -> bool:
    """Whether ``actual`` has all that ``sent`` set (the API server may have added defaults)."""
    if isinstance(sent, dict):
        return isinstance(actual, dict) and all(_holds(actual.get(k), v) for k, v in sent.items())
    if isinstance(sent, list):
        same_length = isinstance(actual, list) and len(actual) == len(sent)
        return same_length and all(map(_holds, actual, sent))
    return actual == sent
