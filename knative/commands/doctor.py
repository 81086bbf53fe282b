"""``doctor``: before a release, check the live cluster for everything a release needs.

One line per check, ✓ or ✗, and for each ✗ the fix; exit 0 only when every check holds. It
reads and asks, never writes: Knative Serving's resources and version, the settings a release
relies on (``config-features``, ``config-deployment`` in ``knative-serving``), the namespace and
the Service, every API verb the rollout tool uses (asked with SelfSubjectAccessReview, so a
missing grant shows before a release needs it), with ``--prometheus-url`` that Prometheus
scrapes the incumbent, and that the route's URL answers over HTTPS.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import requests
from kubernetes import client

from knative.api import GROUP, VERSION, KnativeService
from knative.deadline import DeadlineExceeded, TrackedAdapter, deadline
from knative.errors import RolloutError
from knative.gate import WARM_UP_TIMEOUT
from knative.live import preflight
from knative.plan import BLUE
from knative.prometheus import Prometheus
from knative.steps import traffic_of
from knative.waiting import state_of

KNATIVE = "knative-serving"
SERVING_MINOR = "1.23"  # the release whose behaviour the tool and its tests are modelled on
SERVING_RESOURCES = {"services", "configurations", "revisions", "routes"}
INSTALL = "cluster/install-knative.sh applies it (cluster/README.md)"
RBAC = (
    "grant it to the release's group: cluster/ci-rbac.yaml, applied by cluster/install-knative.sh"
)


@dataclass(frozen=True)
class Finding:
    ok: bool
    line: str
    fix: str = ""

    def __str__(self) -> str:
        return f"✓ {self.line}" if self.ok else f"✗ {self.line}; fix: {self.fix}"


@dataclass
class Cluster:
    """What the checks read, each read once."""

    api_client: client.ApiClient
    service: KnativeService
    _configmaps: dict | None = None

    def configmap(self, name: str) -> dict:
        """``data`` and ``labels`` of Knative's ConfigMap ``name``; RolloutError if unreadable."""
        self._configmaps = self._configmaps or {}
        if name not in self._configmaps:
            read = client.CoreV1Api(self.api_client).read_namespaced_config_map
            found = self.service.calls(f"read {KNATIVE}/{name}", read, name, KNATIVE, none_on=404)
            if found is None:
                raise RolloutError(f"{KNATIVE}/{name} does not exist: is Knative installed?")
            self._configmaps[name] = {
                "data": found.data or {},
                "labels": found.metadata.labels or {},
            }
        return self._configmaps[name]


def doctor(cluster: Cluster, prometheus: Prometheus | None) -> int:
    """Print every check's line; 0 when all hold, else 1."""
    checks: list[Callable[[Cluster], Iterator[Finding]]] = [
        serving_installed,
        serving_version,
        tag_header_routing,
        always_schedulable,
        tag_resolution,
        namespace_and_service,
        permissions,
        https_route,
    ]
    if prometheus is not None:
        checks.insert(-1, lambda found: scrapes(found, prometheus))
    findings = []
    for check in checks:
        for finding in _guarded(check, cluster):
            print(finding)
            findings.append(finding)
    failed = [finding for finding in findings if not finding.ok]
    print(f"{len(findings) - len(failed)}/{len(findings)} checks hold")
    return 1 if failed else 0


def _guarded(check, cluster: Cluster) -> Iterator[Finding]:
    """The check's findings; one that cannot be made is a ✗ with the reason."""
    try:
        yield from check(cluster)
    except RolloutError as exc:
        name = (check.__doc__ or "check").splitlines()[0].rstrip(".")
        yield Finding(False, f"{name}: {exc}", _fix_for(exc))


def _fix_for(exc: RolloutError) -> str:
    if " 403 " in str(exc):
        return f"let the release's group read it ({RBAC})"
    return "make the API server reachable with this kubeconfig, then run doctor again"


def serving_installed(cluster: Cluster) -> Iterator[Finding]:
    """Knative Serving's resources."""
    resources = client.CustomObjectsApi(cluster.api_client).get_api_resources
    doing = f"discover {GROUP}/{VERSION}"
    found = cluster.service.calls(doing, resources, GROUP, VERSION, none_on=404)
    served = {resource.name for resource in (found.resources if found else [])}
    missing = sorted(SERVING_RESOURCES - served)
    if missing:
        yield Finding(
            False,
            f"Knative Serving's resources: {GROUP}/{VERSION} lacks {', '.join(missing)}",
            f"install Knative Serving {SERVING_MINOR}: {INSTALL}",
        )
        return
    yield Finding(
        True, f"Knative Serving's resources: {GROUP}/{VERSION} serves {', '.join(sorted(served))}"
    )


def serving_version(cluster: Cluster) -> Iterator[Finding]:
    """Knative Serving's version."""
    version = cluster.configmap("config-deployment")["labels"].get("app.kubernetes.io/version", "")
    ok = version == SERVING_MINOR or version.startswith(SERVING_MINOR + ".")
    line = f"Knative Serving {version or '(no version label)'}"
    yield Finding(
        ok,
        f"{line} (the rollout tool is modelled on {SERVING_MINOR})",
        f"install Knative Serving {SERVING_MINOR}: {INSTALL}",
    )


def tag_header_routing(cluster: Cluster) -> Iterator[Finding]:
    """config-features."""
    value = cluster.configmap("config-features")["data"].get("tag-header-based-routing")
    ok = (value or "").lower() == "enabled"  # Knative's asFlag: case-insensitive
    yield Finding(
        ok,
        f"config-features: tag-header-based-routing is {value or 'unset (Disabled)'}"
        + (" (a request with Knative-Serving-Tag: green reaches green)" if ok else ""),
        f"set it to Enabled: cluster/config-features.yaml; {INSTALL}",
    )


def always_schedulable(cluster: Cluster) -> Iterator[Finding]:
    """config-deployment."""
    value = cluster.configmap("config-deployment")["data"].get("pod-is-always-schedulable")
    ok = (value or "").lower() in ("1", "t", "true")  # Go's strconv.ParseBool
    yield Finding(
        ok,
        f"config-deployment: pod-is-always-schedulable is {value or 'unset (false)'}"
        + (" (a pod waiting for a node does not fail its revision)" if ok else ""),
        f'set it to "true": cluster/config-deployment.yaml; {INSTALL}',
    )


def tag_resolution(cluster: Cluster) -> Iterator[Finding]:
    """Tag resolution."""
    image = cluster.service.get()["spec"]["template"]["spec"]["containers"][0]["image"]
    registry = registry_of(image)
    data = cluster.configmap("config-deployment")["data"]
    raw = data.get("registries-skipping-tag-resolving", "kind.local,ko.local,dev.local")
    skipped = {entry.strip() for entry in raw.split(",")}  # Knative's cm.AsStringSet
    if "@sha256:" in image or registry in skipped:
        how = "a digest already" if "@sha256:" in image else "in registries-skipping-tag-resolving"
        yield Finding(True, f"tag resolution: {registry} is {how}; Knative needs no access to it")
        return
    yield Finding(
        False,
        f"tag resolution: Knative's controller resolves tags of {registry} itself (not in "
        "registries-skipping-tag-resolving) and fails a revision it cannot read the registry for",
        f"list {registry} there: cluster/config-deployment.yaml; {INSTALL}",
    )


def registry_of(image: str) -> str:
    """The registry of an image reference, as go-containerregistry's name.NewTag reads it."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return "index.docker.io"


def namespace_and_service(cluster: Cluster) -> Iterator[Finding]:
    """The namespace and the Service."""
    service = cluster.service
    where = f"namespace {service.namespace}"
    found = service.find()
    if found is None:
        namespace = client.CoreV1Api(cluster.api_client).read_namespace
        if service.calls(f"read {where}", namespace, service.namespace, none_on=404) is None:
            yield Finding(
                False, f"{where} does not exist", "kubectl apply -f knative/base/namespace.yaml"
            )
        yield Finding(
            False,
            f"service {service.name} does not exist in {where}",
            "deploy the first release: knative/render.sh 1-blue | kubectl apply -f - "
            "(knative/README.md)",
        )
        return
    yield Finding(True, f"{where} exists")
    state = state_of(found)
    health = "Ready" if state.ready else f"NOT Ready ({state.message or state.reason})"
    line = f"service {service.name} is {health}, serving {traffic_of(found).describe()}"
    yield Finding(state.ready, line, "see `status`; a revision that failed needs a new release")


def permissions(cluster: Cluster) -> Iterator[Finding]:
    """Permissions."""
    service = cluster.service
    lease = f"{service.name}-rollout"
    asked = [
        ("get", GROUP, "services", service.name),
        ("patch", GROUP, "services", service.name),
        ("get", GROUP, "revisions", None),
        ("list", GROUP, "revisions", None),
        ("get", "coordination.k8s.io", "leases", lease),
        ("create", "coordination.k8s.io", "leases", None),
        ("update", "coordination.k8s.io", "leases", lease),
    ]
    review = client.AuthorizationV1Api(cluster.api_client).create_self_subject_access_review
    for verb, group, resource, name in asked:
        attributes = client.V1ResourceAttributes(
            namespace=service.namespace, verb=verb, group=group, resource=resource, name=name
        )
        body = client.V1SelfSubjectAccessReview(
            spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=attributes)
        )
        what = (
            f"{verb} {resource}.{group}" + (f" {name}" if name else "") + f" in {service.namespace}"
        )
        answer = service.calls(f"ask whether it may {what}", review, body)
        status = answer.status
        if status and status.allowed:
            yield Finding(True, f"may {what}")
            continue
        why = (status.reason or status.evaluation_error) if status else None
        yield Finding(False, f"may not {what}" + (f" ({why})" if why else ""), RBAC)


def scrapes(cluster: Cluster, prometheus: Prometheus) -> Iterator[Finding]:
    """Prometheus."""
    traffic = traffic_of(cluster.service.get())
    incumbent = traffic.tags.get(BLUE) or max(traffic.percents, key=traffic.percents.__getitem__)
    try:
        yield Finding(True, preflight(prometheus, incumbent).removeprefix("live: "))
    except RolloutError as exc:
        yield Finding(False, str(exc), "see cluster/README.md (Prometheus): install-prometheus.sh")


def https_route(cluster: Cluster) -> Iterator[Finding]:
    """The route's URL."""
    url = (cluster.service.get().get("status") or {}).get("url")
    tls = "serve it over HTTPS on your domain: cluster/install-tls.sh (cluster/README.md)"
    if not url:
        yield Finding(False, "the route has no URL yet", "see `status`: the Service is not routed")
        return
    if not url.startswith("https://"):
        yield Finding(False, f"the route's URL {url} is not HTTPS", tls)
        return
    probe = url.rstrip("/") + "/healthz"
    with requests.Session() as session:
        session.mount("https://", TrackedAdapter())
        try:
            with deadline(WARM_UP_TIMEOUT):
                answer = session.get(probe, timeout=WARM_UP_TIMEOUT)
        except requests.exceptions.SSLError as exc:
            yield Finding(False, f"{probe}: TLS failed ({_first_reason(exc)})", tls)
            return
        except (requests.RequestException, DeadlineExceeded) as exc:
            yield Finding(False, f"{probe} did not answer ({type(exc).__name__})", tls)
            return
    yield Finding(
        answer.ok, f"{probe} answers HTTP {answer.status_code} over HTTPS", "see `status`"
    )


def _first_reason(exc: Exception) -> str:
    text = str(exc)
    found = re.search(r"\[SSL[^\]]*\][^(]*", text)
    return (found.group(0) if found else text).strip()[:160]
