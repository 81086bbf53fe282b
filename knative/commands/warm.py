"""``deploy``'s warm start: green's ``autoscaling.knative.dev/initial-scale`` sized for the share
of blue's traffic the first ``shift`` step will send it, so that step does not land on one cold
pod (knative/serving#4665: a new revision starts at ``initial-scale`` whatever load awaits it).

    pods = ceil(blue's prediction req/s × first step % / one pod's req/s at the autoscaling
    target), at least 1, at most the template's ``max-scale``

What Knative Serving 1.23 does with the number (``release-1.23``):

- It is read once, when the revision is made: ``MakeDeployment`` starts the Deployment with that
  many replicas (pkg/reconciler/revision/resources/deploy.go:365-371), and the revision is Active,
  so Ready, only once that many pods are ready (``activeThreshold``,
  pkg/reconciler/autoscaling/kpa/kpa.go:324-332). Until then the scaler holds the revision at it
  (pkg/reconciler/autoscaling/kpa/scaler.go:346-355); afterwards it is ignored and the autoscaler
  scales an idle revision down, halving it per decision at most (``max-scale-down-rate`` 2,
  pkg/autoscaler/scaling/autoscaler.go:190-207). So deploy cannot change blue (its revision is
  made already) and warms green only for the shift that follows it soon; the nodes it brought
  stay for Karpenter's ``consolidateAfter`` (cluster/karpenter.yaml), so a later scale-up finds
  them.
- Above ``max-scale`` the revision could never be Ready (the scaler caps it there,
  scaler.go:157-165, while activeThreshold wants the initial scale), so the bound.
- 0 is refused by the webhook unless the cluster sets ``allow-zero-initial-scale``
  (pkg/apis/autoscaling/annotation_validation.go:265-277), and green at 0 pods would prove
  nothing on deploy: never below 1.

Anything that prevents the sizing (Prometheus down or without data, no measured curve) keeps the
template's initial-scale and says so: deploy moves no traffic, the KPA still scales green on the
traffic it gets, and ``shift --prometheus-url`` itself stops before any step when that
Prometheus does not answer; a monitoring outage should not block a release.
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path

from knative.errors import RolloutError
from knative.gates.prometheus import Prometheus
from knative.text import percent
from knative.traffic.template import INITIAL_SCALE
from loadtest.curve import interpolate, throughput
from loadtest.kpa import TARGET_MIN

PREFIX = "autoscaling.knative.dev/"
CAPACITY = Path(__file__).resolve().parents[2] / "loadtest" / "capacity-measured.json"
RATE_WINDOW = "2m"  # long enough to span a burst and several scrapes, short enough to be "now"
# Knative's defaults when the template names no target (pkg/autoscaler/config/config.go:39-46:
# container-concurrency-target-default 100, container-concurrency-target-percentage 70 %); a
# cluster may change them in config-autoscaler, which this tool does not read.
DEFAULT_TARGET, DEFAULT_UTILIZATION = 100.0, 0.70


@dataclass(frozen=True)
class WarmStart:
    """deploy's options for sizing green: where blue's traffic is read, one pod's req/s (None:
    from ``capacity`` at the template's autoscaling target), and the first step's percent."""

    prometheus_url: str
    pod_rps: float | None
    capacity: Path
    first_step: int


def initial_scale(template: dict, serving: str, warm: WarmStart) -> int | None:
    """Green's initial-scale for ``template`` (the new revision's), blue being ``serving``; None
    keeps the template's. Prints what was decided and why."""
    kept = _annotations(template).get(INITIAL_SCALE, "unset: the cluster's initial-scale")
    try:
        pod_rps, capacity_why = _pod_rps(template, warm)
        blue_rps = _blue_rps(Prometheus(warm.prometheus_url), serving)
    except RolloutError as exc:
        print(f"warm: cannot size green ({exc}); initial-scale stays {kept} (the template's)")
        return None
    step_rps = blue_rps * warm.first_step / 100
    pods = max(1, math.ceil(step_rps / pod_rps))
    high = int(_annotations(template).get(PREFIX + "max-scale", "0"))
    bound = f", bounded by max-scale {high}" if 0 < high < pods else ""
    pods = min(pods, high) if high > 0 else pods
    print(
        f"warm: {serving} serves {_rate(blue_rps)} predictions/s (rate over {RATE_WINDOW}); the "
        f"first step ({warm.first_step} %) sends {_rate(step_rps)} req/s; {capacity_why}: "
        f"initial-scale {pods}{bound}"
    )
    return pods


def _rate(value: float) -> str:
    """Requests per second as a person reads them: 1,250 and 85, but 0.4 (not 0)."""
    return f"{value:,.0f}" if value >= 10 or value == 0 else f"{value:.2g}"


def _annotations(template: dict) -> dict:
    return (template.get("metadata") or {}).get("annotations") or {}


def _blue_rps(prometheus: Prometheus, serving: str) -> float:
    """The serving revision's predictions per second now, every status (all of it is load)."""
    requests = f'house_price_requests_total{{revision="{serving}",kind="prediction"}}'
    found = prometheus.query(f"sum(rate({requests}[{RATE_WINDOW}]))", label="")
    if not found:
        raise RolloutError(
            f"Prometheus at {prometheus.url} has no house_price_requests_total of {serving}: "
            "it does not scrape the predictor's pods, or none runs"
        )
    return max(found.values())


def _pod_rps(template: dict, warm: WarmStart) -> tuple[float, str]:
    """One pod's req/s at the autoscaling target, and where that figure comes from."""
    if warm.pod_rps is not None:
        return warm.pod_rps, f"1 pod carries {_rate(warm.pod_rps)} req/s (--pod-rps)"
    in_flight, target_why = target_concurrency(template)
    try:
        curve = json.loads(warm.capacity.read_text())
        rps = rps_at(curve["levels"], in_flight)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RolloutError(
            f"no per-pod capacity from {warm.capacity}: {exc!r}; give --pod-rps"
        ) from None
    source = f"{target_why}; {warm.capacity.name}, measured {curve.get('measured', '?')}"
    return rps, f"1 pod carries {_rate(rps)} req/s at the autoscaling target ({source})"


def target_concurrency(
    template: dict, default_target: float = DEFAULT_TARGET, utilization: float = DEFAULT_UTILIZATION
) -> tuple[float, str]:
    """Requests in flight per pod the KPA aims at, and how, as Knative resolves it from the
    template (``ResolveMetricTarget``, pkg/reconciler/autoscaling/resources/target.go:31-65): the
    target annotation, no more than ``containerConcurrency``, times the utilization; the
    defaults are the cluster's (config-autoscaler)."""
    notes = _annotations(template)
    if notes.get(PREFIX + "metric", "concurrency") != "concurrency":
        raise RolloutError(f"the template scales on {notes[PREFIX + 'metric']}; give --pod-rps")
    limit = float((template.get("spec") or {}).get("containerConcurrency") or 0)
    total = float(notes.get(PREFIX + "target", limit or default_target))
    total = min(total, limit) if limit else total
    if PREFIX + "target-utilization-percentage" in notes:
        utilization = float(notes[PREFIX + "target-utilization-percentage"]) / 100
    in_flight = max(TARGET_MIN, total * utilization)
    return in_flight, f"{in_flight:g} in flight = target {total:g} × {percent(utilization)}"


def rps_at(levels: list[dict], concurrency: float) -> float:
    """A pod's req/s with ``concurrency`` in flight, along the measured closed-loop curve: linear
    between levels, in proportion below the first (from 0 at 0), the best past the last; a
    noisy dip smoothed out (a pod carries at least what it carried with fewer in flight)."""
    ordered = sorted(levels, key=lambda level: float(level["concurrency"]))
    points = throughput((float(level["concurrency"]), float(level["rps"])) for level in ordered)
    if len(points) < 2 or points[1][1] <= 0:
        raise ValueError("the curve has no level, or its first carries nothing")
    return interpolate(points, concurrency)
