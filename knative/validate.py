"""Knative's admission rules for a Service, checked before it reaches a cluster.

The CRD schema checks types only; Knative's webhook enforces the rules below and rejects a
Service (or a traffic patch) that breaks one. Each ``*_errors`` function is pure and returns the
broken rules in words, empty when all hold; ``check_service`` raises with all of them. The
rules for containers and for autoscaling annotations live in their own modules.
"""

import re
from collections.abc import Mapping

from knative.autoscaling_rules import KNATIVE_DEFAULTS, PREFIX, ClusterLimits, autoscaling_errors
from knative.container_rules import revision_spec_errors

DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")


class InvalidService(ValueError):
    """A Service that Knative would reject; the message lists every broken rule."""


def check_service(service: Mapping, limits: ClusterLimits = KNATIVE_DEFAULTS) -> None:
    """Raise ``InvalidService`` naming every rule the Service breaks."""
    errors = service_errors(service, limits)
    if errors:
        name = service.get("metadata", {}).get("name", "?")
        raise InvalidService(f"Knative Service {name!r} is invalid:\n- " + "\n- ".join(errors))


def service_errors(service: Mapping, limits: ClusterLimits = KNATIVE_DEFAULTS) -> list[str]:
    """Every broken rule in a whole Knative Service."""
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
        errors += _revision_name_errors("spec.template.metadata.name", revision, name)
    annotations = template_meta.get("annotations", {})
    errors += [
        f"spec.template.metadata.annotations: {e}" for e in autoscaling_errors(annotations, limits)
    ]
    errors += [
        f"spec.template.spec.{e}" for e in revision_spec_errors(template.get("spec", {}), limits)
    ]
    traffic = spec.get("traffic", [{"latestRevision": True, "percent": 100}])
    return errors + [f"spec.traffic{e}" for e in traffic_errors(traffic, name)]


def _revision_name_errors(field: str, revision: str, service_name: str) -> list[str]:
    if not DNS1035_LABEL.fullmatch(revision):
        return [f"{field} {revision!r}: not DNS-1035"]
    if not revision.startswith(f"{service_name}-"):
        return [f"{field} {revision!r}: must start with {service_name}-"]
    return []


def traffic_errors(traffic: list[Mapping], service_name: str) -> list[str]:
    """Every broken rule in a Service's ``spec.traffic`` (messages start with ``[index]``)."""
    errors, tags = [], {}
    for index, target in enumerate(traffic):
        at = f"[{index}]"
        percent = target.get("percent", 0)
        if not isinstance(percent, int) or not 0 <= percent <= 100:
            errors.append(f"{at}.percent: {percent!r} is not a whole number in 0..100")
        revision, latest = target.get("revisionName"), target.get("latestRevision")
        if latest is not None and bool(revision) == latest:
            errors.append(f"{at}.latestRevision: {latest} contradicts revisionName {revision!r}")
        if revision:
            errors += _revision_name_errors(f"{at}.revisionName", revision, service_name)
        errors += [
            f"{at}.{key}: not allowed here" for key in ("configurationName", "url") if key in target
        ]
        tag = target.get("tag")
        if tag is None:
            continue
        if not DNS1035_LABEL.fullmatch(tag) or len(f"{tag}-{service_name}") > 63:
            errors.append(f"{at}.tag {tag!r}: {tag}-{service_name} must be a DNS-1035 label")
        if tag in tags:
            errors.append(f"{at}.tag {tag!r}: already used by [{tags[tag]}]")
        tags.setdefault(tag, index)
    total = sum(t.get("percent", 0) for t in traffic if isinstance(t.get("percent", 0), int))
    return errors + ([] if total == 100 else [f": percents sum to {total}, want 100"])
