"""Knative Services and Revisions through the official ``kubernetes`` client.

Every write is one JSON merge patch carrying ``metadata.resourceVersion``, so a concurrent change
answers 409 instead of being overwritten; a 409 is re-read and retried a bounded number of times.
"""

import json
import os
from collections.abc import Callable

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from urllib3.exceptions import HTTPError

from knative.errors import RolloutError

GROUP, VERSION = "serving.knative.dev", "v1"
CONFLICT_RETRIES = 5
MERGE_PATCH = "application/merge-patch+json"
POLL_SECONDS = 2.0


def connect(kubeconfig: str | None, context: str | None) -> client.ApiClient:
    """An API client from ``--kubeconfig``/``KUBECONFIG``/~/.kube/config, else in-cluster."""
    configuration = client.Configuration()
    kubeconfig = kubeconfig or os.environ.get("KUBECONFIG")
    from_file = kubeconfig or context or os.path.exists(os.path.expanduser("~/.kube/config"))
    try:
        if from_file:
            config.load_kube_config(kubeconfig, context, client_configuration=configuration)
        else:
            config.load_incluster_config(client_configuration=configuration)
    except (ConfigException, OSError) as exc:
        where = "from the kubeconfig" if from_file else "in-cluster (no kubeconfig found)"
        raise RolloutError(f"cannot load the Kubernetes configuration {where}: {exc}") from None
    return client.ApiClient(configuration)


def is_ready(resource: dict) -> bool:
    """Knative's rule: condition Ready=True and the controller has seen the latest generation."""
    return _observed(resource) and _ready_condition(resource).get("status") == "True"


def has_failed(resource: dict) -> bool:
    """Ready=False for the latest generation: waiting longer will not help."""
    return _observed(resource) and _ready_condition(resource).get("status") == "False"


def not_ready_reason(resource: dict) -> str:
    """The message of the Ready condition, for an operator to read."""
    condition = _ready_condition(resource)
    return condition.get("message") or condition.get("reason") or "not ready yet"


class KnativeService:
    """One Knative Service and its revisions in one namespace."""

    def __init__(self, api_client: client.ApiClient, namespace: str, name: str):
        self.namespace, self.name = namespace, name
        self._api = client.CustomObjectsApi(api_client)

    def get(self) -> dict:
        where = self._where("services")
        return self._call("read service", self._api.get_namespaced_custom_object, *where, self.name)

    def revision(self, name: str) -> dict | None:
        """The revision called ``name``, or None if there is none."""
        where = self._where("revisions")
        read = self._api.get_namespaced_custom_object
        return self._call(f"read revision {name}", read, *where, name, none_on=404)

    def revisions(self) -> list[dict]:
        """The service's revisions, oldest first."""
        selector = f"serving.knative.dev/service={self.name}"
        listing = self._api.list_namespaced_custom_object
        found = self._call(
            "list revisions", listing, *self._where("revisions"), label_selector=selector
        )
        return sorted(found["items"], key=_age)

    def update(self, change: Callable[[dict], dict]) -> dict:
        """Merge-patch ``change(service)`` (a ``spec`` fragment) onto the freshly read Service."""
        return self._patch(lambda service: {"spec": change(service)})

    def annotate(self, key: str, value: str) -> dict:
        """Set one annotation of the Service (metadata only: no new generation, no new revision)."""
        return self._patch(lambda _: {"metadata": {"annotations": {key: value}}})

    def _patch(self, body: Callable[[dict], dict]) -> dict:
        """Merge-patch ``body(service)``, with the resourceVersion just read; re-read on a 409."""
        for _ in range(CONFLICT_RETRIES):
            service = self.get()
            patch = body(service)
            patch.setdefault("metadata", {})["resourceVersion"] = service["metadata"][
                "resourceVersion"
            ]
            patched = self._call(
                "patch service",
                self._api.patch_namespaced_custom_object,
                *self._where("services"),
                self.name,
                patch,
                _content_type=MERGE_PATCH,
                none_on=409,
            )
            if patched is not None:
                return patched
        raise RolloutError(
            f"service {self.name} kept changing under us ({CONFLICT_RETRIES} conflicts in a row); "
            "traffic is as the other writer left it"
        )

    def wait(self, read: Callable[[], dict | None], what: str, timeout: float, clock) -> dict:
        """Poll ``read`` until it is Ready, fails, or ``timeout`` seconds pass on ``clock``."""
        deadline = clock.monotonic() + timeout
        while True:
            resource = read()
            if resource and is_ready(resource):
                return resource
            failed = resource and has_failed(resource)
            if failed or clock.monotonic() >= deadline:
                reason = not_ready_reason(resource) if resource else "it does not exist yet"
                verdict = "failed" if failed else f"is not ready after {timeout:g} s"
                raise RolloutError(f"{what} {verdict}: {reason}")
            clock.sleep(POLL_SECONDS)

    def _where(self, plural: str) -> tuple[str, str, str, str]:
        return GROUP, VERSION, self.namespace, plural

    def _call(self, doing: str, method, *args, none_on: int | None = None, **kwargs):
        """``method(*args, **kwargs)``; None when the API answers ``none_on``; other errors stop."""
        try:
            return method(*args, **kwargs)
        except ApiException as exc:
            if exc.status == none_on:
                return None
            raise _api_error(exc, doing) from None
        except HTTPError as exc:  # urllib3: no connection, or the connection broke
            raise RolloutError(f"could not {doing}: the API server did not answer: {exc}") from None


def _observed(resource: dict) -> bool:
    status = resource.get("status") or {}
    return status.get("observedGeneration") == resource["metadata"].get("generation")


def _ready_condition(resource: dict) -> dict:
    conditions = (resource.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == "Ready"), {})


def _age(resource: dict) -> tuple[str, str]:
    return resource["metadata"].get("creationTimestamp") or "", resource["metadata"]["name"]


def _api_error(exc: ApiException, doing: str) -> RolloutError:
    """An API error in an operator's words, with the API server's own message."""
    try:
        message = json.loads(exc.body)["message"]
    except (TypeError, ValueError, KeyError):
        message = exc.body or exc.reason
    return RolloutError(f"could not {doing}: the API answered {exc.status} {exc.reason}: {message}")
