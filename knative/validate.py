"""Knative's admission rules for a Service, checked before it reaches a cluster.

The CRD schema checks types only; Knative's webhook enforces the rules below and rejects a
Service (or a traffic patch) that breaks one. Each ``*_errors`` function is pure and returns the
broken rules in words, empty when all hold; ``check_service`` raises with all of them.
"""

import re
from collections.abc import Mapping

from knative.autoscaling_rules import KNATIVE_DEFAULTS, PREFIX, ClusterLimits, autoscaling_errors

DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
# Ports of the queue-proxy sidecar and Knative's profiling, which the user container can't use.
RESERVED_PORTS = frozenset({8008, 8012, 8013, 8022, 9090, 9091})
RESERVED_ENV = frozenset({"PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"})
PORT_NAMES = frozenset({"", "h2c", "http1"})
PROBE_HANDLERS = ("httpGet", "tcpSocket", "exec", "grpc")


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


def revision_spec_errors(spec: Mapping, limits: ClusterLimits = KNATIVE_DEFAULTS) -> list[str]:
    """Every broken rule in a revision template's spec (containers, concurrency, timeout)."""
    errors = [
        f"{field}: {spec[field]!r} is outside [0, {high}]"
        for field, high in (
            ("containerConcurrency", limits.container_concurrency_max_limit),
            ("timeoutSeconds", limits.max_revision_timeout_seconds),
        )
        if field in spec and not (isinstance(spec[field], int) and 0 <= spec[field] <= high)
    ]
    containers = spec.get("containers", [])
    ports = [port for container in containers for port in container.get("ports", [])]
    if len(ports) != 1:
        errors.append(f"containers: exactly one container port wanted, found {len(ports)}")
    for index, container in enumerate(containers):
        at = f"containers[{index}]"
        errors += [f"{at}.{e}" for e in container_errors(container, ports[0] if ports else {})]
    return errors


def container_errors(container: Mapping, serving_port: Mapping) -> list[str]:
    """Every broken rule in one container, given the revision's one serving port."""
    image = container.get("image", "")
    errors = [] if image and "${" not in image else [f"image: {image!r} is not filled in"]
    errors += [
        f"env: {var['name']} is reserved by Knative"
        for var in container.get("env", [])
        if var.get("name") in RESERVED_ENV
    ]
    for port in container.get("ports", []):
        number = port.get("containerPort")
        if number in RESERVED_PORTS or not isinstance(number, int) or not 0 < number < 65536:
            errors.append(f"ports: {number!r} is reserved by Knative or not a port")
        if port.get("name", "") not in PORT_NAMES or port.get("protocol", "TCP") != "TCP":
            errors.append(f"ports: name must be h2c or http1, protocol TCP: {dict(port)}")
    for kind in ("readinessProbe", "livenessProbe"):
        if kind in container:
            errors += [f"{kind}: {e}" for e in probe_errors(container[kind], serving_port, kind)]
    return errors


def probe_errors(probe: Mapping, serving_port: Mapping, kind: str) -> list[str]:
    """A probe needs one handler, on the serving port; Knative's readiness timing rules."""
    handlers = [h for h in PROBE_HANDLERS if h in probe]
    errors = [] if len(handlers) == 1 else [f"exactly one of {PROBE_HANDLERS} wanted"]
    port = next((probe[h].get("port") for h in handlers if isinstance(probe[h], Mapping)), None)
    if port is not None and port not in (
        serving_port.get("containerPort"),
        serving_port.get("name"),
    ):
        errors.append(f"port {port!r} is not the container port")
    if probe.get("successThreshold", 1) < 1:
        errors.append("successThreshold must be at least 1")
    if kind == "readinessProbe" and not probe.get("periodSeconds"):
        # periodSeconds 0: the queue-proxy probes aggressively and sets its own timing.
        errors += [
            f"{key} needs periodSeconds > 0"
            for key in ("failureThreshold", "timeoutSeconds")
            if probe.get(key)
        ]
    elif any(probe.get(key, 1) < 1 for key in ("failureThreshold", "timeoutSeconds")):
        errors.append("failureThreshold and timeoutSeconds must be at least 1")
    return errors
