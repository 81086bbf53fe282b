"""Knative's rules for a revision's spec: concurrency, timeout, the one port, env and probes."""

from collections.abc import Mapping

from tests.release.manifests.knative_rules.limits import KNATIVE_DEFAULTS, ClusterLimits

# Ports of the queue-proxy sidecar and Knative's profiling, which the user container can't use.
RESERVED_PORTS = frozenset({8008, 8012, 8013, 8022, 9090, 9091})
RESERVED_ENV = frozenset({"PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"})
PORT_NAMES = frozenset({"", "h2c", "http1"})
PROBE_HANDLERS = ("httpGet", "tcpSocket", "exec", "grpc")


def revision_spec_errors(spec: Mapping, limits: ClusterLimits = KNATIVE_DEFAULTS) -> list[str]:
    """Every broken rule in a revision template's spec (containers, concurrency, timeout)."""
    least_concurrency = 0 if limits.allow_container_concurrency_zero else 1
    errors = [
        f"{field}: {spec[field]!r} is outside [{low}, {high}]"
        for field, low, high in (
            ("containerConcurrency", least_concurrency, limits.container_concurrency_max_limit),
            ("timeoutSeconds", 0, limits.max_revision_timeout_seconds),
        )
        if field in spec and not (isinstance(spec[field], int) and low <= spec[field] <= high)
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
