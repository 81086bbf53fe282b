"""Waiting for a Knative Revision or Service to be Ready: what passes, what never will.

Knative 1.23 marks a revision ``Ready=False`` for a state that passes as for one that never does
(its conditions propagate to Ready with their reason and message: knative/pkg
apis/condition_set.go ``MarkFalse``). A pod that waits for a node is ``Unschedulable``
(serving pkg/reconciler/revision/reconcile_resources.go:103-112; unless ``config-deployment``
says ``pod-is-always-schedulable``), and with Karpenter it gets one within a minute or two, so
that is waited through up to ``--timeout``, as kn waits through a False that turns back
(knative/client pkg/wait/wait_for_ready.go, knative/client#1023). Any other False is Knative's
verdict and ends the wait at once with its message: a container that exits (``ExitCode<N>``,
"Container failed with: ..."), an image it cannot fetch (``ContainerMissing``, "Unable to fetch
image ..."), an image pull that backs off past the progress deadline (``ImagePullBackOff``,
``ErrImagePull``), ``ProgressDeadlineExceeded``. A Service says only ``RevisionFailed`` or
``RevisionMissing`` of a revision that holds it up, so its wait looks at the revision itself
(``KnativeService.wait``).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from knative.errors import RolloutError

POLL_SECONDS = 2.0
SAY_EVERY_SECONDS = 10.0
# Reasons of a pod's PodScheduled=False that Knative copies onto the revision and that pass
# (kube-scheduler: corev1.PodReasonUnschedulable, PodReasonSchedulingGated).
PASSING = {
    "Unschedulable": "pod unschedulable for {seconds} s, waiting for a node",
    "SchedulingGated": "pod held by a scheduling gate for {seconds} s",
}


@dataclass(frozen=True)
class State:
    """Where a resource stands: ready, failed for good, or on its way (``reason`` and
    ``message`` are Knative's own, from the Ready condition)."""

    ready: bool
    failed: bool
    reason: str
    message: str

    def waiting(self, seconds: float) -> str:
        """What a line about the wait says, after ``seconds``."""
        template = PASSING.get(self.reason, "not ready for {seconds} s")
        said = template.format(seconds=f"{seconds:.0f}")
        why = self.message or self.reason
        return f"{said} ({why})" if why else said


def state_of(resource: dict | None) -> State:
    """Knative's verdict on ``resource`` (a Revision or a Service as read), None: not made yet."""
    if resource is None:
        return State(False, False, "", "it does not exist yet")
    status = resource.get("status") or {}
    if status.get("observedGeneration") != resource["metadata"].get("generation"):
        return State(False, False, "", "Knative has not seen its latest change yet")
    conditions = status.get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready"), {})
    reason, message = ready.get("reason") or "", ready.get("message") or ""
    if ready.get("status") == "True":
        return State(True, False, reason, message)
    failed = ready.get("status") == "False" and reason not in PASSING
    return State(False, failed, reason, message)


def is_ready(resource: dict) -> bool:
    """Knative's rule: condition Ready=True and the controller has seen the latest generation."""
    return state_of(resource).ready


def not_ready_reason(resource: dict) -> str:
    """Knative's message (else reason) for why ``resource`` is not Ready, for an operator."""
    state = state_of(resource)
    return state.message or state.reason or "not ready yet"


def wait_ready(
    read: Callable[[], dict | None],
    what: str,
    timeout: float,
    clock: Any,
    cause: Callable[[dict], State | None] = lambda _: None,
) -> dict:
    """Poll ``read`` until it is Ready (returned), failed for good, or ``timeout`` seconds have
    passed on ``clock`` (then ``RolloutError`` with Knative's message). ``cause(resource)`` names
    the state that holds it up when that lies elsewhere (a Service's revisions). What it waits
    for is said as a passing reason appears, and every ``SAY_EVERY_SECONDS``."""
    started = clock.monotonic()
    since: dict[str, float] = {}  # reason -> when it was first seen, in seconds of the wait
    said: float | None = None  # when a line was last said
    while True:
        resource = read()
        state = state_of(resource)
        if state.ready:
            return resource
        state = (cause(resource) if resource is not None else None) or state
        if state.failed:
            raise RolloutError(f"{what} failed: {state.message or state.reason}")
        waited = clock.monotonic() - started
        line = state.waiting(waited - since.setdefault(state.reason, waited))
        if waited >= timeout:
            raise RolloutError(f"{what} is not ready after {timeout:g} s: {line}")
        due = waited >= (said or 0.0) + SAY_EVERY_SECONDS
        if due or (said is None and state.reason in PASSING):
            print(f"{what}: {line}")
            said = waited
        clock.sleep(POLL_SECONDS)
