"""Knative's rules for autoscaling annotations, and the cluster settings they depend on.

Knative's webhook rejects a revision template whose ``autoscaling.knative.dev/*`` annotations
are out of range; the CRD schema does not check them. Unknown keys are ignored by Knative, so a
typo silently does nothing: this module reports them too.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from knative.plan import parse_go_duration

PREFIX = "autoscaling.knative.dev/"
KPA, HPA = "kpa.autoscaling.knative.dev", "hpa.autoscaling.knative.dev"
HOUR = 3600.0
# Keys that Knative also accepts in their older camelCase spelling.
CAMEL_ALIASES = {
    "min-scale": "minScale",
    "max-scale": "maxScale",
    "initial-scale": "initialScale",
    "target-utilization-percentage": "targetUtilizationPercentage",
    "panic-window-percentage": "panicWindowPercentage",
    "panic-threshold-percentage": "panicThresholdPercentage",
    "target-burst-capacity": "targetBurstCapacity",
}


@dataclass(frozen=True)
class ClusterLimits:
    """Cluster settings a Service is checked against; defaults are Knative's own."""

    max_scale_limit: int = 0  # config-autoscaler max-scale-limit; 0: no limit
    allow_zero_initial_scale: bool = False  # config-autoscaler allow-zero-initial-scale
    container_concurrency_max_limit: int = 1000  # config-defaults
    max_revision_timeout_seconds: int = 600  # config-defaults

    @classmethod
    def from_config(cls, data: Mapping[str, str]) -> "ClusterLimits":
        """Read the ConfigMap ``data`` keys (config-autoscaler and config-defaults, merged)."""
        default = cls()
        return cls(
            max_scale_limit=int(data.get("max-scale-limit", default.max_scale_limit)),
            allow_zero_initial_scale=str(data.get("allow-zero-initial-scale", "false")) == "true",
            container_concurrency_max_limit=int(
                data.get("container-concurrency-max-limit", default.container_concurrency_max_limit)
            ),
            max_revision_timeout_seconds=int(
                data.get("max-revision-timeout-seconds", default.max_revision_timeout_seconds)
            ),
        )


KNATIVE_DEFAULTS = ClusterLimits()


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


# Range checks per key, as Knative's webhook applies them.
_RANGES: dict[str, Callable[[str], str | None]] = {
    "target": _number(float, 0.01, float("inf")),
    "target-utilization-percentage": _number(float, 1, 100),
    "min-scale": _number(int, 0, 2**31 - 1),
    "max-scale": _number(int, 0, 2**31 - 1),
    "initial-scale": _number(int, 0, 2**31 - 1),
    "activation-scale": _number(int, 1, 2**31 - 1),
    "window": _duration(6, whole_seconds=True),
    "panic-window-percentage": _number(float, 1, 100),
    "panic-threshold-percentage": _number(float, 110, 1000),
    "target-burst-capacity": _burst_capacity,
    "scale-down-delay": _duration(0, whole_seconds=True),
    "scale-to-zero-pod-retention-period": _duration(0, whole_seconds=False),
}
KNOWN_KEYS = {"class", "metric", "metric-aggregation-algorithm", *_RANGES}


def autoscaling_errors(annotations: Mapping[str, str], limits: ClusterLimits) -> list[str]:
    """Every broken autoscaling rule in a revision template's annotations."""
    aliases = {PREFIX + camel: key for key, camel in CAMEL_ALIASES.items()}
    values: dict[str, str] = {}
    errors = []
    for full_key, value in annotations.items():
        if not full_key.startswith(PREFIX):
            continue
        key = aliases.get(full_key, full_key.removeprefix(PREFIX))
        if key not in KNOWN_KEYS:
            errors.append(f"{full_key}: unknown autoscaling annotation (Knative would ignore it)")
        elif key in values:
            errors.append(f"{full_key}: {PREFIX}{key} is set twice, in both spellings")
        else:
            values[key] = str(value)
            problem = _RANGES[key](values[key]) if key in _RANGES else None
            errors += [f"{full_key}: {problem}"] if problem else []
    return errors + _cross_errors(values, limits)


def _cross_errors(values: dict[str, str], limits: ClusterLimits) -> list[str]:
    """Rules that relate several annotations, or an annotation and the cluster settings."""
    errors = []
    cls = values.get("class", KPA)
    if cls.endswith(".autoscaling.knative.dev") and cls not in (KPA, HPA):
        errors.append(f"{PREFIX}class: {cls!r} is neither {KPA} nor {HPA}")
    metric = values.get("metric")
    if cls == KPA and metric is not None and metric not in ("concurrency", "rps"):
        errors.append(f"{PREFIX}metric: {metric!r} is not concurrency or rps, as KPA needs")
    scale = {k: int(v) for k, v in values.items() if k.endswith("-scale") and v.isdigit()}
    low, high = scale.get("min-scale", 0), scale.get("max-scale", 0)
    if high and high < low:
        errors.append(f"{PREFIX}max-scale: {high} is less than min-scale {low}")
    if "max-scale" in scale and limits.max_scale_limit and not 0 < high <= limits.max_scale_limit:
        errors.append(f"{PREFIX}max-scale: {high} must be 1..{limits.max_scale_limit}")
    if scale.get("initial-scale") == 0 and not limits.allow_zero_initial_scale:
        errors.append(f"{PREFIX}initial-scale: 0 needs allow-zero-initial-scale on the cluster")
    return errors
