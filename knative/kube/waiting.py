"""Waiting for a Knative Revision or Service to be Ready: what passes, what never will.

Knative 1.23 marks a revision ``Ready=False`` for a state that passes as for one that never does
(its conditions propagate to Ready with their reason and message: knative/pkg apis/condition_set.go
``MarkFalse``). A pod that waits for a node is ``PodScheduled=False``, reason ``Unschedulable``,
with the scheduler's message; Knative copies that onto the revision (serving
pkg/reconciler/revision/reconcile_resources.go:105-112) unless ``config-deployment`` says
``pod-is-always-schedulable``, as ours does: then the revision stays ``Deploying`` and the pod alone
says it (table_test.go:690-715), so the wait reads it there (``pods_state``). With Karpenter the pod
gets a node within a minute or two, so either way that is waited through up to ``--timeout``, with
the same line (``State.waiting``), as kn waits through a False that turns back (knative/client
pkg/wait/wait_for_ready.go, knative/client#1023). Any other False is Knative's verdict and ends the
wait at once with its message: a container that exits (``ExitCode<N>``, "Container failed with:
..."), an image it cannot fetch (``ContainerMissing``, "Unable to fetch image ..."), an image pull
that backs off past the progress deadline (``ImagePullBackOff``, ``ErrImagePull``),
``ProgressDeadlineExceeded``. A Service says only ``RevisionFailed`` or ``RevisionMissing`` of a
revision that holds it up, so its wait looks at the revision itself (``KnativeService.wait``).

Before its progress deadline (600 s) Knative says nothing of a pod that cannot start
(reconcile_resources.go:127 copies a waiting container's reason only once the Deployment timed
out), and with tag resolution skipped for our registry a wrong tag or a missing grant is found
only by the kubelet's pull. So while a revision is not Ready its pods are read too
(``pods_state``): a user container waiting for a reason of ``STUCK`` ends the wait with the
kubelet's own message. ``ImagePullBackOff`` ends it at once: the kubelet reports it only after a
pull failed, while it waits 10 s (doubling to 300 s) before the next attempt, and since
Kubernetes 1.32 its message carries that pull's error (pkg/kubelet/images/image_manager.go
``pullImage``; kubelet.go ``imageBackOffPeriod``, ``MaxImageBackOff``; kubernetes#127918).
``ErrImagePull`` is the failed attempt itself, which a registry's passing hiccup also shows, and
``CreateContainerError`` comes back on each sync while the runtime cannot create the container
(kuberuntime_container.go ``startContainer``); the kubelet tries again 10-15 s later (its pod
worker's back-off after a failed sync, pod_workers.go ``workerBackOffPeriodJitterFactor``), so
these end the wait only once seen for ``RETRY_SECONDS`` in a row. A wrong stop costs little: the
new revision has no traffic, and ``deploy`` run again, once a pull succeeded, waits for the same
revision.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubernetes.client import V1Pod

from knative.errors import RolloutError

POLL_SECONDS = 2.0
SAY_EVERY_SECONDS = 10.0
# Reasons of a pod's PodScheduled=False that pass, read on the pod or on the revision Knative
# copied them to (kube-scheduler: corev1.PodReasonUnschedulable, PodReasonSchedulingGated).
PASSING = {
    "Unschedulable": "pod unschedulable for {seconds} s, waiting for a node",
    "SchedulingGated": "pod held by a scheduling gate for {seconds} s",
}
# The kubelet's waiting reasons of a container that will not start by itself, and what each
# says (pkg/kubelet/images/types.go; CreateContainer*: pkg/kubelet/kuberuntime/
# kuberuntime_container.go). Passing ones (ContainerCreating, PodInitializing) are not here.
STUCK = {
    "ImagePullBackOff": 'image "{image}" cannot be pulled',
    "ErrImagePull": 'image "{image}" cannot be pulled',
    "ErrImageNeverPull": 'image "{image}" is not on the node and may not be pulled',
    "InvalidImageName": 'image "{image}" is not a valid image name',
    "CreateContainerConfigError": "container {container} cannot be configured",
    "CreateContainerError": "container {container} cannot be created",
}
# Of those, the ones the kubelet's next attempt may mend, with what a line about them says.
RETRIED = {
    "ErrImagePull": "image pull failing for {seconds} s, the kubelet tries again",
    "CreateContainerError": "container creation failing for {seconds} s, the kubelet tries again",
}
RETRY_SECONDS = 15.0  # the kubelet's next attempt comes 10-15 s after a failed one
QUEUE_PROXY = "queue-proxy"  # Knative's sidecar, not judged (reconcile_resources.go:115 skips it)


@dataclass(frozen=True)
class State:
    """Where a resource stands: ready, failed for good, or on its way (``reason`` and
    ``message`` are Knative's own, from the Ready condition, or the kubelet's, from a pod)."""

    ready: bool
    failed: bool
    reason: str
    message: str

    def waiting(self, seconds: float) -> str:
        """What a line about the wait says, after ``seconds``."""
        template = (PASSING | RETRIED).get(self.reason, "not ready for {seconds} s")
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


def pods_state(pods: list[V1Pod]) -> State | None:
    """What a revision's pods say that Knative may not: a pod the scheduler has not placed
    (``PodScheduled=False``, judged as when Knative copies it, so the line is the same with
    ``pod-is-always-schedulable`` as without), or a user container waiting for a ``STUCK``
    reason, with the kubelet's message (failed at once unless ``RETRIED``); a failed one first;
    else None."""
    found = []
    for pod in pods:
        for condition in (pod.status and pod.status.conditions) or []:
            if condition.type == "PodScheduled" and condition.status == "False":
                reason = condition.reason or ""
                found.append(State(False, reason not in PASSING, reason, condition.message or ""))
        for status in (pod.status and pod.status.container_statuses) or []:
            waiting = status.state and status.state.waiting
            if status.name == QUEUE_PROXY or not waiting or waiting.reason not in STUCK:
                continue
            said = STUCK[waiting.reason].format(image=status.image, container=status.name)
            failed = waiting.reason not in RETRIED
            found.append(State(False, failed, waiting.reason, f"{said}: {waiting.message}"))
    return next((state for state in found if state.failed), found[0] if found else None)


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
    for is said as a passing or retried reason appears, and every ``SAY_EVERY_SECONDS``; a
    retried one fails once it has lasted ``RETRY_SECONDS``."""
    started = clock.monotonic()
    reason, since = "", 0.0  # the reason seen, and since when in a row, in seconds of the wait
    said: float | None = None  # when a line was last said
    while True:
        resource = read()
        state = state_of(resource)
        if state.ready:
            return resource
        state = (cause(resource) if resource is not None else None) or state
        waited = clock.monotonic() - started
        if state.reason != reason:
            reason, since = state.reason, waited
        if state.failed or (reason in RETRIED and waited - since >= RETRY_SECONDS):
            raise RolloutError(f"{what} failed: {state.message or state.reason}")
        line = state.waiting(waited - since)
        if waited >= timeout:
            raise RolloutError(f"{what} is not ready after {timeout:g} s: {line}")
        due = waited >= (said or 0.0) + SAY_EVERY_SECONDS
        if due or (said is None and reason in PASSING | RETRIED):
            print(f"{what}: {line}")
            said = waited
        clock.sleep(POLL_SECONDS)
