"""``doctor``: before a release, check the live cluster for everything a release needs.

One line per check, ✓ or ✗, and for each ✗ the fix; exit 0 only when every check holds (else 1).
It reads and asks, never writes: Knative Serving's resources and version, the settings a release
relies on (``config-features`` and ``config-deployment`` in ``knative-serving``), tag resolution
for the image's registry, the namespace and the Service, every API verb the rollout tool uses
(asked with SelfSubjectAccessReview, so a missing grant shows before a release needs it), with
``--prometheus-url`` that Prometheus scrapes the incumbent, and that the route's URL answers over
HTTPS. Keys and defaults are Knative 1.23's (knative/serving config/core/configmaps/*.yaml).
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import requests
from kubernetes import client

from knative.deadline import NO_ANSWER, no_answer, session, within
from knative.errors import RolloutError
from knative.gates.live import preflight
from knative.gates.predictor import WARM_UP_TIMEOUT
from knative.gates.prometheus import Prometheus
from knative.kube.service import GROUP, VERSION, KnativeService
from knative.kube.waiting import state_of
from knative.traffic.plan import BLUE, traffic_of

KNATIVE = "knative-serving"
CONFIGMAPS = ("config-features", "config-deployment")  # the settings doctor reads there
COORDINATION = "coordination.k8s.io"
SERVING_MINOR = "1.23"  # the release whose behaviour the tool and its tests are modelled on
SERVING_RESOURCES = {"services", "configurations", "revisions", "routes"}
INSTALL = "cluster/install-knative.sh applies it"
RBAC = "grant it to the release's group in cluster/ci-rbac.yaml (cluster/install-knative.sh)"
TLS = "serve it over HTTPS on your domain: cluster/install-tls.sh (cluster/README.md)"


@dataclass(frozen=True)
class Finding:
    ok: bool
    line: str
    fix: str = ""

    def __str__(self) -> str:
        return f"✓ {self.line}" if self.ok else f"✗ {self.line}; fix: {self.fix}"


@dataclass(frozen=True)
class Access:
    """One API verb on one kind of resource (a name: only that one), as RBAC authorizes it."""

    verb: str
    group: str
    resource: str
    namespace: str
    name: str | None = None

    def __str__(self) -> str:
        kind = f"{self.resource}.{self.group}" if self.group else self.resource
        return f"{self.verb} {kind}{f' {self.name}' if self.name else ''} in {self.namespace}"


def accesses(namespace: str, service: str) -> list[Access]:
    """Every API verb the rollout tool uses, doctor's reads of Knative's settings included: what
    cluster/ci-rbac.yaml grants CI. Discovery and SelfSubjectAccessReviews need no grant: the
    default ClusterRoles ``system:discovery`` and ``system:basic-user`` are bound to every
    authenticated user (kubernetes plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go
    ``ClusterRoleBindings``)."""
    lease = f"{service}-rollout"
    return [
        Access("get", GROUP, "services", namespace, service),
        Access("patch", GROUP, "services", namespace, service),
        Access("get", GROUP, "revisions", namespace),
        Access("list", GROUP, "revisions", namespace),
        Access("list", "", "pods", namespace),  # a wait reads a revision's pods
        Access("get", COORDINATION, "leases", namespace, lease),
        Access("create", COORDINATION, "leases", namespace),
        Access("update", COORDINATION, "leases", namespace, lease),
        *(Access("get", "", "configmaps", KNATIVE, name) for name in CONFIGMAPS),
    ]


@dataclass
class Cluster:
    """What the checks read: the API client and the Service; Knative's ConfigMaps read once."""

    api_client: client.ApiClient
    service: KnativeService
    _configmaps: dict[str, client.V1ConfigMap] = field(default_factory=dict)

    def configmap(self, name: str) -> client.V1ConfigMap:
        """Knative's ConfigMap ``name``; RolloutError if it cannot be read."""
        if name not in self._configmaps:
            read = client.CoreV1Api(self.api_client).read_namespaced_config_map
            found = self.service.calls(f"read {KNATIVE}/{name}", read, name, KNATIVE, none_on=404)
            if found is None:
                raise RolloutError(f"{KNATIVE}/{name} does not exist")
            self._configmaps[name] = found
        return self._configmaps[name]

    def setting(self, configmap: str, key: str) -> str | None:
        return (self.configmap(configmap).data or {}).get(key)


def doctor(cluster: Cluster, prometheus: Prometheus | None) -> int:
    """Print every check's line and a count; 0 when all hold, else 1."""
    checks: list[Callable[[Cluster], Iterator[Finding]]] = [
        serving_resources,
        serving_version,
        tag_header_routing,
        always_schedulable,
        tag_resolution,
        namespace_and_service,
        permissions,
    ]
    if prometheus is not None:
        checks.append(lambda found: scrapes(found, prometheus))
    checks.append(https_route)
    findings = []
    for check in checks:
        for finding in _made(check, cluster):
            print(finding)
            findings.append(finding)
    held = sum(finding.ok for finding in findings)
    print(f"doctor: {held}/{len(findings)} checks hold")
    return 0 if held == len(findings) else 1


def _made(check: Callable[[Cluster], Iterator[Finding]], cluster: Cluster) -> Iterator[Finding]:
    """The check's findings; one that cannot be made (the API said no) is a ✗ saying why."""
    try:
        yield from check(cluster)
    except RolloutError as exc:
        subject = (check.__doc__ or "a check").splitlines()[0].rstrip(".")
        fix = f"let the release's group read it: {RBAC}" if " 403 " in str(exc) else INSTALL
        yield Finding(False, f"{subject}: {exc}", fix)


def serving_resources(cluster: Cluster) -> Iterator[Finding]:
    """Knative Serving's resources."""
    discover = client.CustomObjectsApi(cluster.api_client).get_api_resources
    found = cluster.service.calls(
        f"discover {GROUP}/{VERSION}", discover, GROUP, VERSION, none_on=404
    )
    served = {resource.name for resource in (found.resources if found else [])}
    missing = SERVING_RESOURCES - served
    said = (
        f"lacks {', '.join(sorted(missing))}" if missing else f"serves {', '.join(sorted(served))}"
    )
    fix = f"install Knative Serving {SERVING_MINOR}: {INSTALL}"
    yield Finding(not missing, f"Knative Serving's resources: {GROUP}/{VERSION} {said}", fix)


def serving_version(cluster: Cluster) -> Iterator[Finding]:
    """Knative Serving's version."""
    labels = cluster.configmap("config-deployment").metadata.labels or {}
    version = labels.get("app.kubernetes.io/version") or "(no version label)"
    ok = version == SERVING_MINOR or version.startswith(f"{SERVING_MINOR}.")
    line = f"Knative Serving {version} (the rollout tool is modelled on {SERVING_MINOR})"
    yield Finding(ok, line, f"install Knative Serving {SERVING_MINOR}: {INSTALL}")


def tag_header_routing(cluster: Cluster) -> Iterator[Finding]:
    """config-features."""
    value = cluster.setting("config-features", "tag-header-based-routing")
    yield _setting(
        "config-features: tag-header-based-routing",
        value or "unset (Disabled)",
        (value or "").lower() == "enabled",  # Knative's asFlag: case-insensitive
        "a request with Knative-Serving-Tag: green reaches green",
        "set it to Enabled in cluster/config-features.yaml",
    )


def always_schedulable(cluster: Cluster) -> Iterator[Finding]:
    """config-deployment."""
    value = cluster.setting("config-deployment", "pod-is-always-schedulable")
    yield _setting(
        "config-deployment: pod-is-always-schedulable",
        value or "unset (false)",
        (value or "").lower() in ("1", "t", "true"),  # Go's strconv.ParseBool
        "a pod waiting for a node does not fail its revision",
        'set it to "true" in cluster/config-deployment.yaml',
    )


def _setting(name: str, value: str, ok: bool, meaning: str, fix: str) -> Finding:
    return Finding(ok, f"{name} is {value}" + (f" ({meaning})" if ok else ""), f"{fix}; {INSTALL}")


def tag_resolution(cluster: Cluster) -> Iterator[Finding]:
    """Tag resolution."""
    image = cluster.service.get()["spec"]["template"]["spec"]["containers"][0]["image"]
    registry = registry_of(image)
    listed = cluster.setting("config-deployment", "registries-skipping-tag-resolving")
    skipped = {entry.strip() for entry in (listed or "kind.local,ko.local,dev.local").split(",")}
    if "@sha256:" in image or registry in skipped:
        how = "named by digest" if "@sha256:" in image else "in registries-skipping-tag-resolving"
        yield Finding(True, f"tag resolution: {registry} is {how}; Knative needs no access to it")
        return
    yield Finding(
        False,
        f"tag resolution: Knative's controller resolves tags of {registry} itself, which fails "
        "a revision unless it can read that registry",
        f"list {registry} in registries-skipping-tag-resolving in cluster/config-deployment.yaml;"
        f" {INSTALL}",
    )


def registry_of(image: str) -> str:
    """An image reference's registry, as go-containerregistry's ``name.NewTag`` reads it."""
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
        # Whether the namespace exists is not asked: namespaces are cluster-scoped and CI may
        # read nothing beyond its namespaces, and the first release's manifest makes it anyway.
        yield Finding(
            False,
            f"service {service.name} does not exist in {where} (the namespace may be missing too)",
            "deploy the first release, which makes the namespace too: "
            "knative/render.sh 1-blue | kubectl apply -f - (cluster/README.md)",
        )
        return
    yield Finding(True, f"{where} exists")
    state = state_of(found)
    health = "Ready" if state.ready else f"NOT Ready ({state.message or state.reason})"
    line = f"service {service.name} is {health}, serving {traffic_of(found).describe()}"
    yield Finding(state.ready, line, "see `status`; a revision that fails needs a new release")


def permissions(cluster: Cluster) -> Iterator[Finding]:
    """Permissions."""
    service = cluster.service
    review = client.AuthorizationV1Api(cluster.api_client).create_self_subject_access_review
    for what in accesses(service.namespace, service.name):
        attributes = client.V1ResourceAttributes(
            namespace=what.namespace,
            verb=what.verb,
            group=what.group,
            resource=what.resource,
            name=what.name,
        )
        spec = client.V1SelfSubjectAccessReviewSpec(resource_attributes=attributes)
        answer = service.calls(
            f"ask whether it may {what}", review, client.V1SelfSubjectAccessReview(spec=spec)
        ).status
        if answer and answer.allowed:
            yield Finding(True, f"may {what}")
            continue
        why = answer and (answer.reason or answer.evaluation_error)
        yield Finding(False, f"may not {what}{f' ({why})' if why else ''}", RBAC)


def scrapes(cluster: Cluster, prometheus: Prometheus) -> Iterator[Finding]:
    """Prometheus."""
    traffic = traffic_of(cluster.service.get())
    incumbent = traffic.tags.get(BLUE) or max(traffic.percents, key=traffic.percents.__getitem__)
    try:
        yield Finding(True, preflight(prometheus, incumbent).removeprefix("live: "))
    except RolloutError as exc:
        yield Finding(False, str(exc), "cluster/install-prometheus.sh (cluster/README.md)")


def https_route(cluster: Cluster) -> Iterator[Finding]:
    """The route's URL."""
    url = (cluster.service.get().get("status") or {}).get("url")
    if not url or not url.startswith("https://"):
        yield Finding(False, f"the route's URL {url or '(none yet)'} is not HTTPS", TLS)
        return
    health = url.rstrip("/") + "/healthz"
    try:
        with session() as http:
            answer = within(http, "GET", health, WARM_UP_TIMEOUT)  # it may start a pod first
    except requests.exceptions.SSLError as exc:
        yield Finding(False, f"{health}: TLS failed ({_tls_reason(exc)})", TLS)
        return
    except NO_ANSWER as exc:
        yield Finding(False, f"{health} did not answer ({no_answer(exc)})", TLS)
        return
    line = f"{health} answers HTTP {answer.status_code} over HTTPS"
    yield Finding(answer.ok, line, "see `status`: the revision serving it is not healthy")


def _tls_reason(exc: Exception) -> str:
    """The OpenSSL reason in a requests SSLError (e.g. CERTIFICATE_VERIFY_FAILED)."""
    text = str(exc)
    start = text.find("[SSL")
    return " ".join(text[start:].split())[:160] if start >= 0 else text[:160]
