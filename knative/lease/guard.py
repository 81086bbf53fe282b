"""Before every write: this command still holds the lease, and the traffic is as it left it.

A writing command takes the Service's lease (``lock``) and remembers the split it read at the
start and after each of its own writes. Before each write it checks both; if another writer
came in between (an operator's ``rollback``, kn, kubectl, another rollout), it stops without
writing, names who (the lease's holder, and the field manager that last wrote ``spec.traffic``
in the Service's ``managedFields``, with the time) and says what the traffic is now.
``rollback`` takes the lease even while it is held and plans on whatever it finds: it wins.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from knative.errors import RolloutError, Superseded
from knative.kube.service import KnativeService
from knative.lease.lease import Lease
from knative.traffic.plan import Traffic, traffic_of


class Guard:
    """The lease a command holds and the split it left; ``check`` runs before each write."""

    def __init__(self, lease: Lease, left: Traffic, wins: bool) -> None:
        self.lease, self.left, self.wins = lease, left, wins

    def check(self, service: dict) -> None:
        """Raise ``Superseded`` unless the lease is ours and the traffic is as we left it."""
        holder, now = self.lease.holder(), traffic_of(service)
        ours = holder == self.lease.identity
        if ours and (self.wins or now == self.left):
            return
        who = [_last_writer(service)]
        if not ours:
            who.insert(0, f"lease now held by {holder}" if holder else "lease taken from us")
        left = "unchanged" if now == self.left else f"this command left {self.left.describe()}"
        raise Superseded(
            f"stopped without writing: someone else changed service {self.lease.service} "
            f"({'; '.join(filter(None, who))}); traffic is now {now.describe()} ({left})"
        )

    def wrote(self, service: dict) -> None:
        """Remember the split this command's write left, as the API holds it."""
        self.left = traffic_of(service)


@contextmanager
def guarded(service: KnativeService, lease: Lease, wins: bool) -> Iterator[Guard]:
    """Hold ``lease`` (taking it even if held when ``wins``) and renew it; yield the Guard."""
    service.get()  # a missing Service stops here, before a lease is made for it
    note = lease.take(force=wins)
    if note:
        print(note)
    try:
        with lease.renewed():
            yield Guard(lease, traffic_of(service.get()), wins)
    finally:
        try:
            lease.release()
        except RolloutError as exc:
            print(f"note: lease {lease.name} not released ({exc}); it expires", file=sys.stderr)


def _last_writer(service: dict) -> str | None:
    """Who last wrote ``spec.traffic`` and when, from the Service's ``managedFields``."""
    entries = [
        entry
        for entry in service["metadata"].get("managedFields") or []
        if "f:traffic" in ((entry.get("fieldsV1") or {}).get("f:spec") or {})
    ]
    if not entries:
        return None
    last = max(entries, key=lambda entry: entry.get("time") or "")
    return f"spec.traffic last written by {last.get('manager')} at {last.get('time')}"
