"""Knative's webhook rules for autoscaling annotations.

Copied from ``pkg/apis/autoscaling/annotation_validation.go`` of the release kept in
``../knative-serving/`` (the CRD schema does not check annotations). ``autoscaling_errors`` is
what the webhook rejects. ``annotation_lint`` is stricter, for our own manifests: the webhook
accepts an unknown key (it does nothing) and two spellings of one key (only the first counts),
both of which are mistakes in a manifest.
"""

from collections.abc import Callable, Mapping

from knative.traffic.plan import parse_go_duration
from tests.release.manifests.knative_rules.limits import HPA, KPA, ClusterLimits

PREFIX = "autoscaling.knative.dev/"
ALGORITHMS = {"linear", "weighted-exponential", "weightedExponential"}
HOUR = 3600.0
INT32_MAX = 2**31 - 1
# Keys Knative also reads in an older camelCase spelling, which counts only without the first.
CAMEL_ALIASES = {
    "min-scale": "minScale",
    "max-scale": "maxScale",
    "initial-scale": "initialScale",
    "target-utilization-percentage": "targetUtilizationPercentage",
    "panic-window-percentage": "panicWindowPercentage",
    "panic-threshold-percentage": "panicThresholdPercentage",
    "target-burst-capacity": "targetBurstCapacity",
    "scale-down-delay": "scaleDownDelay",
    "scale-to-zero-pod-retention-period": "scaleToZeroPodRetentionPeriod",
    "metric-aggregation-algorithm": "metricAggregationAlgorithm",
}


def _number(kind: type, low: float, high: float) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        try:
            number = kind(value)
        except ValueError:
            return f"{value!r} is not a{'n integer' if kind is int else ' number'}"
        return None if low <= number <= high else f"{value} is outside [{low:g}, {high:g}]"

    return check


def _duration(low: float, whole_seconds: bool) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        seconds = parse_go_duration(value)
        if seconds is None:
            return f"{value!r} is not a duration like 60s or 10m"
        if not low <= seconds <= HOUR:
            return f"{value} is outside [{low:g}s, 1h]"
        return "must be whole seconds" if whole_seconds and seconds != int(seconds) else None

    return check


def _burst_capacity(value: str) -> str | None:
    try:
        number = float(value)
    except ValueError:
        return f"{value!r} is not a number"
    return None if number >= 0 or number == -1 else f"{value} must be >= 0, or -1 (unlimited)"


# One-key checks, as Knative's webhook applies them.
_RANGES: dict[str, Callable[[str], str | None]] = {
    "target": _number(float, 0.01, float("inf")),
    "target-utilization-percentage": _number(float, 1, 100),
    "min-scale": _number(int, 0, INT32_MAX),
    "max-scale": _number(int, 0, INT32_MAX),
    "initial-scale": _number(int, 0, INT32_MAX),
    "activation-scale": _number(int, -(2**31), INT32_MAX),
    "window": _duration(6, whole_seconds=True),
    "panic-window-percentage": _number(float, 1, 100),
    "panic-threshold-percentage": _number(float, 110, 1000),
    "target-burst-capacity": _burst_capacity,
    "scale-down-delay": _duration(0, whole_seconds=True),
    "scale-to-zero-pod-retention-period": _duration(0, whole_seconds=False),
}
KNOWN_KEYS = {"class", "metric", "metric-aggregation-algorithm", *_RANGES}


def read(annotations: Mapping[str, str]) -> dict[str, str]:
    """The value Knative reads for each key: the first spelling present wins."""
    values = {}
    for key in KNOWN_KEYS:
        spellings = [key] + ([CAMEL_ALIASES[key]] if key in CAMEL_ALIASES else [])
        found = [PREFIX + s for s in spellings if PREFIX + s in annotations]
        if found:
            values[key] = str(annotations[found[0]])
    return values


def autoscaling_errors(annotations: Mapping[str, str], limits: ClusterLimits) -> list[str]:
    """Every autoscaling rule the webhook finds broken in a revision template's annotations."""
    values = read(annotations)
    errors = [
        f"{PREFIX}{key}: {problem}"
        for key, check in _RANGES.items()
        if key in values and (problem := check(values[key]))
    ]
    return errors + _class_errors(values, limits) + _scale_errors(values, limits)


def annotation_lint(annotations: Mapping[str, str]) -> list[str]:
    """Autoscaling annotations the webhook lets through but that do not do what they say."""
    spellings = {PREFIX + key for key in KNOWN_KEYS} | {PREFIX + c for c in CAMEL_ALIASES.values()}
    errors = [
        f"{key}: unknown autoscaling annotation (Knative would ignore it)"
        for key in annotations
        if key.startswith(PREFIX) and key not in spellings
    ]
    return errors + [
        f"{PREFIX}{camel}: {PREFIX}{key} is set too, so Knative ignores this spelling"
        for key, camel in CAMEL_ALIASES.items()
        if PREFIX + key in annotations and PREFIX + camel in annotations
    ]


def _class_errors(values: dict[str, str], limits: ClusterLimits) -> list[str]:
    """Class, metric and aggregation algorithm (validateClass, validateMetric, -Algorithm)."""
    errors = []
    cls = values.get("class")
    if cls and cls.endswith(".autoscaling.knative.dev") and cls not in (KPA, HPA):
        errors.append(f"{PREFIX}class: {cls!r} is no autoscaler of Knative's (neither KPA nor HPA)")
    metric, effective = values.get("metric"), cls or limits.pod_autoscaler_class
    if metric is not None and effective == KPA and metric not in ("concurrency", "rps"):
        errors.append(f"{PREFIX}metric: {metric!r} is not concurrency or rps, as KPA needs")
    if metric == "" and effective == HPA:
        errors.append(f"{PREFIX}metric: HPA needs a metric")
    algorithm = values.get("metric-aggregation-algorithm")
    if cls == KPA and algorithm and algorithm not in ALGORITHMS:
        errors.append(f"{PREFIX}metric-aggregation-algorithm: {algorithm!r} is not one of KPA's")
    return errors


def _scale_errors(values: dict[str, str], limits: ClusterLimits) -> list[str]:
    """Min, max, activation and initial scale (validateMinMaxScale, validateInitialScale)."""
    scale = {k: int(v) for k, v in values.items() if k.endswith("-scale") and _is_int(v)}
    low, high = scale.get("min-scale", 0), scale.get("max-scale", 0)
    errors = []
    if high and high < low:
        errors.append(f"{PREFIX}max-scale: max-scale={high} is less than min-scale={low}")
    if "max-scale" in values and limits.max_scale_limit and not 0 < high <= limits.max_scale_limit:
        errors.append(f"{PREFIX}max-scale: {high} must be 1..{limits.max_scale_limit}")
    active = scale.get("activation-scale")
    if active is not None and low > active:
        errors.append(f"{PREFIX}activation-scale: min-scale={low} is greater than {active}")
    elif active is not None and high and high < active:
        errors.append(f"{PREFIX}activation-scale: max-scale={high} is less than {active}")
    elif active is not None and active < 2:
        errors.append(f"{PREFIX}activation-scale: activation-scale={active} must be greater than 1")
    if scale.get("initial-scale") == 0 and not limits.allow_zero_initial_scale:
        errors.append(f"{PREFIX}initial-scale: 0 needs allow-zero-initial-scale on the cluster")
    return errors


def _is_int(value: str) -> bool:
    try:
        int(value)
    except ValueError:
        return False
    return True
