"""``coordination.k8s.io/v1`` Leases in one namespace, as the Kubernetes API server keeps them.

Get, create (409 if it exists), replace (PUT: ``resourceVersion`` required, 409 when stale,
creates a missing one) and JSON merge patch (409 when a given ``resourceVersion`` is stale).
Like the API server it reads ``acquireTime``/``renewTime`` as MicroTime (RFC 3339 with exactly
six fraction digits, else 400) and wants ``leaseDurationSeconds`` above 0 (else 422).
"""

import copy
import json
import re
from datetime import UTC, datetime, timedelta

from tests.rollout.fake_knative_webhook import ApiError

MICRO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)")
KIND = "leases.coordination.k8s.io"
# For a Lease's spec of scalars, a strategic merge patch is a JSON merge patch.
PATCHES = ("application/merge-patch+json", "application/strategic-merge-patch+json")


def micro_time(moment: datetime) -> str:
    """A MicroTime as the API server writes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FakeLeases:
    """The Leases of one namespace; ``stamp`` gives each write its ``resourceVersion``."""

    def __init__(self, namespace: str, stamp):
        self.namespace, self._stamp = namespace, stamp
        self.leases: dict[str, dict] = {}
        self.writes: list[dict] = []  # every lease as written, in order
        self.before_write: list = []  # callables, one run as each write arrives

    def hold(self, name: str, holder: str, renewed_ago: float = 0, seconds: int = 30) -> dict:
        """A lease held by ``holder``, renewed ``renewed_ago`` seconds ago (someone else's)."""
        renewed = micro_time(datetime.now(UTC) - timedelta(seconds=renewed_ago))
        spec = {"holderIdentity": holder, "leaseDurationSeconds": seconds}
        spec |= {"acquireTime": renewed, "renewTime": renewed}
        return self._store(name, {"metadata": {"name": name}, "spec": spec})

    def handle(self, method: str, name: str | None, content_type: str, body: bytes) -> dict:
        if method == "GET" and name:
            return copy.deepcopy(self._find(name))
        if self.before_write:
            self.before_write.pop(0)()
        if method == "POST" and name is None:
            lease = _decode(body)
            name = lease.get("metadata", {}).get("name")
            if name in self.leases:
                raise ApiError(409, "AlreadyExists", f'{KIND} "{name}" already exists')
            return self._store(name, lease)
        if method == "PUT" and name:
            lease = _decode(body)
            sent = lease.get("metadata", {}).get("resourceVersion")
            if lease.get("metadata", {}).get("name") != name:
                raise ApiError(400, "BadRequest", "the name of the object does not match the URL")
            if name not in self.leases and not sent:
                return self._store(name, lease)
            if not sent:
                raise ApiError(
                    422, "Invalid", "metadata.resourceVersion: must be specified for an update"
                )
            self._fresh(name, sent)
            return self._store(name, lease)
        if method == "PATCH" and name:
            if content_type not in PATCHES:
                raise ApiError(415, "UnsupportedMediaType", f"{content_type} is not supported")
            patch = _decode(body)
            self._fresh(name, patch.get("metadata", {}).get("resourceVersion"))
            spec = self._find(name)["spec"] | patch.get("spec", {})
            return self._store(name, {"metadata": {"name": name}, "spec": spec})
        raise ApiError(405, "MethodNotAllowed", f"{method} is not served on leases")

    def _find(self, name: str) -> dict:
        if name not in self.leases:
            raise ApiError(404, "NotFound", f'{KIND} "{name}" not found')
        return self.leases[name]

    def _fresh(self, name: str, sent: str | None) -> None:
        if sent and sent != self._find(name)["metadata"]["resourceVersion"]:
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {KIND} "{name}": the object has been '
                "modified; please apply your changes to the latest version and try again",
            )

    def _store(self, name: str, lease: dict) -> dict:
        spec = {key: value for key, value in lease.get("spec", {}).items() if value is not None}
        for field in ("acquireTime", "renewTime"):
            if field not in spec:
                continue
            if not MICRO_TIME.fullmatch(str(spec[field])):
                raise ApiError(
                    400,
                    "BadRequest",
                    f'Lease in version "v1" cannot be handled as a Lease: parsing time '
                    f'"{spec[field]}" as "2006-01-02T15:04:05.000000Z07:00": cannot parse',
                )
            spec[field] = micro_time(datetime.fromisoformat(spec[field]))  # kept in UTC
        if spec.get("leaseDurationSeconds", 1) <= 0:
            raise ApiError(422, "Invalid", "spec.leaseDurationSeconds: must be greater than 0")
        metadata = {"name": name, "namespace": self.namespace, "resourceVersion": self._stamp()}
        self.leases[name] = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease"}
        self.leases[name] |= {"metadata": metadata, "spec": spec}
        self.writes.append(copy.deepcopy(self.leases[name]))
        return copy.deepcopy(self.leases[name])


def _decode(body: bytes) -> dict:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ApiError(400, "BadRequest", f"not JSON: {exc}") from None
