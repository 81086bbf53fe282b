"""The cluster settings Knative's webhook checks a Service against, with Knative's defaults.

They come from the ConfigMaps config-autoscaler and config-defaults (``from_config``); a test
checks the defaults here against the ones those ConfigMaps document.
"""

from collections.abc import Mapping
from dataclasses import dataclass

KPA, HPA = "kpa.autoscaling.knative.dev", "hpa.autoscaling.knative.dev"


@dataclass(frozen=True)
class ClusterLimits:
    """Cluster settings a Service is checked against; defaults are Knative's own."""

    max_scale_limit: int = 0  # config-autoscaler max-scale-limit; 0: no limit
    allow_zero_initial_scale: bool = False  # config-autoscaler allow-zero-initial-scale
    pod_autoscaler_class: str = KPA  # config-autoscaler pod-autoscaler-class
    container_concurrency_max_limit: int = 1000  # config-defaults
    allow_container_concurrency_zero: bool = True  # config-defaults
    max_revision_timeout_seconds: int = 600  # config-defaults

    @classmethod
    def from_config(cls, data: Mapping[str, str]) -> "ClusterLimits":
        """Read the ConfigMap ``data`` keys (config-autoscaler and config-defaults, merged)."""
        default = cls()

        def number(key: str, fallback: int) -> int:
            return int(data.get(key, fallback))

        def flag(key: str, fallback: bool) -> bool:
            return str(data.get(key, str(fallback).lower())) == "true"

        return cls(
            max_scale_limit=number("max-scale-limit", default.max_scale_limit),
            allow_zero_initial_scale=flag("allow-zero-initial-scale", False),
            pod_autoscaler_class=data.get("pod-autoscaler-class", default.pod_autoscaler_class),
            container_concurrency_max_limit=number(
                "container-concurrency-max-limit", default.container_concurrency_max_limit
            ),
            allow_container_concurrency_zero=flag("allow-container-concurrency-zero", True),
            max_revision_timeout_seconds=number(
                "max-revision-timeout-seconds", default.max_revision_timeout_seconds
            ),
        )


KNATIVE_DEFAULTS = ClusterLimits()
