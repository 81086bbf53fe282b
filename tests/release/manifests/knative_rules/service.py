"""Knative's admission rules for a Service, checked before it reaches a cluster.

The CRD schema checks types only; Knative's webhook enforces the rules below and rejects a
Service (or a traffic patch) that breaks one. Each ``*_errors`` function is pure and returns the
broken rules in words, empty when all hold: ``service_errors`` is what the webhook rejects,
``manifest_errors`` adds the annotation mistakes it lets through, and ``check_service`` raises
with all of them. The rules for containers and for autoscaling annotations live in their own
modules, the traffic rules in the rollout tool's ``knative.traffic.rules`` (one copy, which the
tool uses too).
"""

from collections.abc import Mapping

from knative.traffic.rules import DNS1035_LABEL, revision_name_errors, traffic_errors
from tests.release.manifests.knative_rules.autoscaling import (
    PREFIX,
    annotation_lint,
    autoscaling_errors,
)
from tests.release.manifests.knative_rules.containers import revision_spec_errors
from tests.release.manifests.knative_rules.limits import KNATIVE_DEFAULTS, ClusterLimits


class InvalidService(ValueError):
    """A Service that Knative would reject; the message lists every broken rule."""


def check_service(service: Mapping, limits: ClusterLimits = KNATIVE_DEFAULTS) -> None:
    """Raise ``InvalidService`` naming every rule the Service breaks."""
    errors = manifest_errors(service, limits)
    if errors:
        name = service.get("metadata", {}).get("name", "?")
        raise InvalidService(f"Knative Service {name!r} is invalid:\n- " + "\n- ".join(errors))


def manifest_errors(service: Mapping, limits: ClusterLimits = KNATIVE_DEFAULTS) -> list[str]:
    """What the webhook rejects, and the annotation mistakes it would let through."""
    template_meta = service.get("spec", {}).get("template", {}).get("metadata", {})
    lint = annotation_lint(template_meta.get("annotations", {}))
    return service_errors(service, limits) + [
        f"spec.template.metadata.annotations: {e}" for e in lint
    ]


def service_errors(service: Mapping, limits: ClusterLimits = KNATIVE_DEFAULTS) -> list[str]:
    """Every rule of Knative's webhook that a whole Service breaks."""
    metadata, spec = service.get("metadata", {}), service.get("spec", {})
    name = metadata.get("name", "")
    template = spec.get("template", {})
    template_meta = template.get("metadata", {})
    errors = [] if DNS1035_LABEL.fullmatch(name) else [f"metadata.name {name!r}: not DNS-1035"]
    errors += [
        f"metadata.annotations: {key} belongs on spec.template.metadata.annotations"
        for key in metadata.get("annotations", {})
        if key.startswith(PREFIX)
    ]
    revision = template_meta.get("name")
    if revision is not None:
        errors += revision_name_errors("spec.template.metadata.name", revision, name)
    annotations = template_meta.get("annotations", {})
    errors += [
        f"spec.template.metadata.annotations: {e}" for e in autoscaling_errors(annotations, limits)
    ]
    errors += [
        f"spec.template.spec.{e}" for e in revision_spec_errors(template.get("spec", {}), limits)
    ]
    traffic = spec.get("traffic", [{"latestRevision": True, "percent": 100}])
    return errors + [f"spec.traffic{e}" for e in traffic_errors(traffic, name)]
