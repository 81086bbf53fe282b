"""What a rollout Lease says, and the body of a write: holder, renewal, expiry, in words.

Times are MicroTime, as the API server keeps Lease times.
"""

import getpass
import os
import socket
from datetime import UTC, datetime, timedelta

from kubernetes import client


def holder_identity() -> str:
    """Who runs this command: the CircleCI job, else ``user@host/pid``."""
    if os.environ.get("CIRCLE_BUILD_URL"):
        return os.environ["CIRCLE_BUILD_URL"]
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container's user without a name
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}/{os.getpid()}"


def lease_body(
    name: str, lease: client.V1Lease | None, holder: str | None, seconds: int
) -> client.V1Lease:
    """``lease`` (None: a new one) renewed for ``holder``; None as holder releases it."""
    now = _micro(datetime.now(UTC))
    same_holder = lease is not None and lease.spec.holder_identity == holder
    version = lease.metadata.resource_version if lease else None
    return client.V1Lease(
        metadata=client.V1ObjectMeta(name=name, resource_version=version),
        spec=client.V1LeaseSpec(
            holder_identity=holder,
            lease_duration_seconds=seconds if holder else 1,
            acquire_time=_micro(lease.spec.acquire_time) if same_holder else now,
            renew_time=now,
        ),
    )


def held_by(lease: client.V1Lease) -> str:
    """``alice@laptop/4242 (renewed 3 s ago, expires in 27 s unless renewed)``."""
    left = (_expiry(lease) - datetime.now(UTC)).total_seconds()
    renewed = _ago(lease.spec.renew_time)
    return (
        f"{lease.spec.holder_identity} (renewed {renewed}, expires in {left:.0f} s unless renewed)"
    )


def taken_from(lease: client.V1Lease, identity: str, live: bool) -> str | None:
    """What taking ``lease`` over did to its holder, for the operator; None if it had none."""
    holder, renewed = lease.spec.holder_identity, _ago(lease.spec.renew_time)
    if not holder or holder == identity:
        return None
    if live:
        return f"took the lease from {holder} (renewed {renewed}): it stops before its next write"
    return f"took over the expired lease of {holder} (renewed {renewed})"


def _expiry(lease: client.V1Lease) -> datetime | None:
    renewed = lease.spec.renew_time or lease.spec.acquire_time
    if not lease.spec.holder_identity or renewed is None:
        return None
    return renewed + timedelta(seconds=lease.spec.lease_duration_seconds or 0)


def is_live(lease: client.V1Lease) -> bool:
    until = _expiry(lease)
    return until is not None and until > datetime.now(UTC)


def _ago(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    return f"{(datetime.now(UTC) - moment).total_seconds():.0f} s ago"


def _micro(moment: datetime | None) -> datetime | None:
    """``moment`` as the API server parses a MicroTime: with exactly six fraction digits, which
    ``isoformat()`` (how the client writes it) leaves out when they are all zero."""
    if moment is None or moment.microsecond:
        return moment
    return moment + timedelta(microseconds=1)
