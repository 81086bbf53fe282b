"""Only one rollout command changes a Service at a time: a Kubernetes Lease.

The lock is the ``coordination.k8s.io/v1`` Lease ``<service>-rollout`` in the Service's
namespace (``kubectl get lease -n house-price`` shows who holds it and when it was renewed).
A Lease rather than an annotation on the Service: renewing an annotation would write the
Service every few seconds, and each write changes its ``resourceVersion``, so the tool's own
traffic patches (and kn's and kubectl's) would keep meeting 409s; a Lease is renewed without
touching the Service, and access to it is granted apart. Not the client's own
``kubernetes.leaderelection``: there a follower waits until it leads, and its ``LeaseLock``
uses the default client without a timeout and turns every error into False, whereas a command
must refuse at once (or take over) and tell "held by someone" from "API down".

The holder is ``$CIRCLE_BUILD_URL`` in CircleCI, else ``user@host/pid``. A lease lasts
``LEASE_SECONDS`` and is renewed every third of that while the command runs, so a crashed run
blocks the others for 30 s at most: an expired lease is taken over (judged on this machine's
clock against the lease's ``renewTime``). Every write replaces the lease just read, with its
``resourceVersion``, so of two takers one wins and the other gets 409. An operator's
``rollback`` takes the lease even while it is held. On exit the holder is cleared, as client-go
does, so the next command need not wait for the expiry.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from kubernetes import client

from knative.errors import RolloutError, Superseded
from knative.kube.calls import Calls
from knative.lease.terms import held_by, is_live, lease_body, taken_from

LEASE_SECONDS = 30
TAKE_ATTEMPTS = 3


class Lease:
    """The rollout Lease of one Service, taken and renewed by ``identity``."""

    def __init__(
        self,
        api_client: client.ApiClient,
        namespace: str,
        service: str,
        calls: Calls,
        identity: str,
    ) -> None:
        self.namespace, self.service, self.name = namespace, service, f"{service}-rollout"
        self.identity = identity
        self.seconds = LEASE_SECONDS
        self._calls = calls
        self._api = client.CoordinationV1Api(api_client)

    def take(self, force: bool) -> str | None:
        """Hold the lease; ``Superseded`` if someone else holds it, unless ``force``.

        Returns a note when the lease was taken from someone (expired, or forced).
        """
        for _ in range(TAKE_ATTEMPTS):
            lease = self._read(self._calls)
            if lease is None:
                if self._write(self._calls, None, self.identity):
                    return None
                continue  # created by someone else in between
            holder, live = lease.spec.holder_identity, is_live(lease)
            if live and holder != self.identity and not force:
                raise Superseded(
                    f"another rollout command is changing service {self.service}: "
                    f"lease {self.namespace}/{self.name} is held by {held_by(lease)}; "
                    "wait for it to end, or `rollback` to stop it"
                )
            if self._write(self._calls, lease, self.identity):
                return taken_from(lease, self.identity, live)
        raise RolloutError(f"could not take lease {self.name}: {TAKE_ATTEMPTS} conflicts in a row")

    def holder(self) -> str | None:
        """Who holds the lease now, as the API says."""
        lease = self._read(self._calls)
        return lease.spec.holder_identity if lease else None

    def release(self) -> None:
        """Clear the holder if it is still this command; one attempt, else the lease expires."""
        self._keep(self._calls.once(), None)

    @contextmanager
    def renewed(self) -> Iterator[None]:
        """Renew the lease every third of its duration while the block runs."""
        stop, once = threading.Event(), self._calls.once()

        def renew_until_stopped() -> None:
            while not stop.wait(self.seconds / 3):
                try:
                    if not self._keep(once, self.identity):
                        return  # taken over: the check before the next write stops the command
                except RolloutError:
                    pass  # still ours until it expires; the next period tries again

        thread = threading.Thread(target=renew_until_stopped, name="lease-renewal", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()  # bounded: a renewal is two calls, each whole within its timeout

    def _keep(self, calls: Calls, holder: str | None) -> bool:
        """If this command still holds the lease, write it for ``holder``; whether it did hold."""
        lease = self._read(calls)
        ours = lease is not None and lease.spec.holder_identity == self.identity
        if ours:
            self._write(calls, lease, holder)
        return ours

    def _read(self, calls: Calls) -> client.V1Lease | None:
        read = self._api.read_namespaced_lease
        lease = calls(f"read lease {self.name}", read, self.name, self.namespace, none_on=404)
        if lease is not None and lease.spec is None:
            lease.spec = client.V1LeaseSpec()
        return lease

    def _write(self, calls: Calls, lease: client.V1Lease | None, holder: str | None) -> bool:
        """Create the lease, or replace ``lease`` as read; False on a conflict (409)."""
        body = lease_body(self.name, lease, holder, self.seconds)
        if lease is None:
            create = self._api.create_namespaced_lease
            written = calls(f"create lease {self.name}", create, self.namespace, body, none_on=409)
        else:
            replace = self._api.replace_namespaced_lease
            doing = f"write lease {self.name}"
            written = calls(doing, replace, self.name, self.namespace, body, none_on=409)
        return written is not None
