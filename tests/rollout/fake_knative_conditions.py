"""A Revision's conditions as Knative Serving 1.23 writes them, one function per case, and what
its Configuration and Route then say (which a Service copies); beside them, what the kubelet
says meanwhile of the revision's user container (its ``state.waiting``).

Sources (knative/serving at knative-v1.23.0): the revision's Ready is the happy condition of
``ResourcesAvailable`` and ``ContainerHealthy`` (pkg/apis/serving/v1/revision_lifecycle.go:55-58);
``MarkFalse`` copies reason and message onto Ready, False before Unknown (knative/pkg
apis/condition_set.go:283-301, 394-412). Each case is that of a test in
pkg/reconciler/revision/table_test.go, with the words the real components write.
"""

from dataclasses import dataclass

UNKNOWN, FALSE, TRUE = "Unknown", "False", "True"
# kube-scheduler's FitError.Error() (kubernetes pkg/scheduler/framework/types.go): the reasons
# per node, then what preemption found.
NO_NODE = (
    "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
    "3 No preemption victims found for incoming pod."
)


@dataclass(frozen=True)
class Case:
    """One state of a revision: its two conditions as (status, reason, message), its pod's user
    container waiting as (reason, message) while the revision is not Ready, and the pod's
    PodScheduled=False as (reason, message) while the scheduler has not placed it (None: it is
    scheduled; else it has no container statuses)."""

    resources: tuple[str, str, str]
    container: tuple[str, str, str]
    waiting: tuple[str, str] = ("ContainerCreating", "")
    unscheduled: tuple[str, str] | None = None

    def conditions(self, always_schedulable: bool = False) -> list[dict]:
        """``status.conditions``, Ready included, sorted by type as Knative keeps them. Unless
        config-deployment's ``pod-is-always-schedulable`` is true, Knative copies an unscheduled
        pod's PodScheduled=False onto ResourcesAvailable, reason and message verbatim
        (reconcile_resources.go:105-112; table_test.go:661-689); with it, it copies nothing and
        the revision stays as it was, Deploying (table_test.go:690-715)."""
        parts = {"ResourcesAvailable": self.resources, "ContainerHealthy": self.container}
        if self.unscheduled and not always_schedulable:
            parts["ResourcesAvailable"] = (FALSE, *self.unscheduled)
        unhappy = [p for p in parts.values() if p[0] == FALSE] or [
            p for p in parts.values() if p[0] == UNKNOWN
        ]
        parts["Ready"] = unhappy[0] if unhappy else (TRUE, "", "")
        return [_condition(kind, *parts[kind]) for kind in sorted(parts)]


def _condition(kind: str, status: str, reason: str, message: str) -> dict:
    condition = {"type": kind, "status": status}
    return (
        condition
        | ({"reason": reason} if reason else {})
        | ({"message": message} if message else {})
    )


DEPLOYING = (UNKNOWN, "Deploying", "")

READY = Case((TRUE, "", ""), (TRUE, "", ""))
# reconcile_resources.go:66-67: the Deployment was just created.
DEPLOYING_CASE = Case(DEPLOYING, DEPLOYING)


def unschedulable(message: str = NO_NODE) -> Case:
    """Its pod waits for a node: kube-scheduler's PodScheduled=False, reason ``Unschedulable``
    (corev1.PodReasonUnschedulable) and its FitError message; Knative's Deployment was created
    (reconcile_resources.go:66-67), so the revision is Deploying unless Knative copies the pod's
    condition (``Case.conditions``)."""
    return Case(DEPLOYING, DEPLOYING, unscheduled=("Unschedulable", message))


def container_exits(message: str, code: int = 1) -> Case:
    """Its container exited (reconcile_resources.go:114-126; revision_lifecycle.go:247-256;
    table_test.go:631-660): the termination message; a stand-in for exit 0 without one."""
    said = "container exited with no error" if code == 0 and not message else message
    # kubelet: kuberuntime_manager.go doBackOff, "back-off %s restarting failed container=%s pod=%s"
    restarting = "back-off 10s restarting failed container=user-container pod={pod}"
    container = (FALSE, f"ExitCode{code}", f"Container failed with: {said}")
    return Case(DEPLOYING, container, waiting=("CrashLoopBackOff", restarting))


def image_missing(image: str, error: str = "MANIFEST_UNKNOWN: Requested image not found") -> Case:
    """Its image tag cannot be resolved to a digest (revision.go:102-108; background.go:266-267;
    revision_lifecycle.go:260-262)."""
    message = f'Unable to fetch image "{image}": failed to resolve image to digest: {error}'
    return Case((UNKNOWN, "ResolvingDigests", ""), (FALSE, "ContainerMissing", message))


# containerd's answer to a tag the registry does not have (the kubelet passes it on as it is)
NOT_FOUND = (
    'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": failed to '
    'resolve reference "{image}": {image}: not found'
)


def pull_error(image: str, reason: str = "ImagePullBackOff", error: str = NOT_FOUND) -> tuple:
    """The kubelet's waiting (reason, message) for an image whose pull failed with ``error``:
    ``ErrImagePull`` and the error as it is, then ``ImagePullBackOff`` with "Back-off pulling
    image" and the error it backs off from (pkg/kubelet/images/image_manager.go ``pullImage``,
    ``prevPullErrMsg``, since Kubernetes 1.32; reason strings: pkg/kubelet/images/types.go)."""
    error = error.format(image=image)
    if reason == "ErrImagePull":
        return reason, error
    return reason, f'Back-off pulling image "{image}": ErrImagePull: {error}'


def pull_backoff(image: str) -> Case:
    """Its image cannot be pulled, reported once the Deployment is past its progress deadline
    (reconcile_resources.go:127-130; table_test.go:606-630); kubelet's waiting message."""
    waiting = pull_error(image)
    return Case((FALSE, *waiting), DEPLOYING, waiting)


def deploying(waiting: tuple[str, str]) -> Case:
    """Before the progress deadline Knative says only Deploying, whatever its pod's container
    waits for (reconcile_resources.go:127 copies the waiting reason only once the Deployment
    timed out): the kubelet's (reason, message), e.g. ``pull_error(...)``, or
    ("ContainerCreating", "") while the image is pulled."""
    return Case(DEPLOYING, DEPLOYING, waiting)


def never_scaled() -> Case:
    """It never reached its initial scale within the progress deadline (revision_lifecycle.go
    :231-234)."""
    return Case((FALSE, "ProgressDeadlineExceeded", "Initial scale was never achieved"), DEPLOYING)


def configuration_failed(revision: str, message: str) -> tuple[str, str]:
    """The Configuration's (and so the Service's) Ready=False when its latest revision failed
    (configuration_lifecycle.go:94-101)."""
    return "RevisionFailed", f'Revision "{revision}" failed with message: {message}.'


def route_not_ready(revision: str, failed: bool) -> tuple[str, str]:
    """The Route's AllTrafficAssigned for a traffic target whose revision is not Ready
    (route_lifecycle.go:142-156; route/traffic/errors.go:98-105)."""
    said = "failed to become ready" if failed else "is not yet ready"
    return "RevisionMissing", f'Revision "{revision}" {said}.'
