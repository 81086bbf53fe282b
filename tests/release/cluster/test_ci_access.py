"""CI's way into AWS and the cluster: CircleCI OIDC → an IAM role of this project only → an EKS
access entry → namespaced Roles that allow what the release does (the rollout tool, its lease,
doctor's reads of Knative's settings, kubectl get) and nothing more. The IAM files are checked as
AWS would read them once the README's envsubst filled them in; the Roles against every call the
rollout tool makes to the fake Knative API, and against the list of verbs doctor asks for."""

import json
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

import pytest
import yaml

from knative.commands.doctor import Access, accesses
from knative.rollout import main
from tests.release.files import circleci_config, run_commands
from tests.release.manifests.knative_manifests import CLUSTER, PHASES, phase_service, rendered
from tests.rollout.fake_knative_api import CLUSTER as CLUSTER_PATH
from tests.rollout.fake_knative_api import PATH, FakeKnative
from tests.rollout.fake_tag_route import FakeTagRoute
from tests.support.fake_clock import FakeClock

ACCOUNT, ORG, PROJECT = "123456789012", "1b2c3d4e-org", "5f6a7b8c-project"
SETUP = {
    "AWS_ACCOUNT_ID": ACCOUNT,
    "AWS_DEFAULT_REGION": "eu-west-1",
    "ECR_REPOSITORY": "house-price",
    "CIRCLECI_ORG_ID": ORG,
    "CIRCLECI_PROJECT_ID": PROJECT,
}
PROVIDER = f"oidc.circleci.com/org/{ORG}"


def policy(name: str) -> dict:
    return json.loads(rendered(name, **SETUP))


def rbac() -> list[dict]:
    return list(yaml.safe_load_all((CLUSTER / "ci-rbac.yaml").read_text()))


def of_kind(kind: str) -> dict[str, dict]:
    """The documents of ``kind`` in ci-rbac.yaml, by namespace."""
    return {d["metadata"]["namespace"]: d for d in rbac() if d["kind"] == kind}


SERVICE_NAMESPACE = phase_service(PHASES[0])["metadata"]["namespace"]


def test_each_role_is_bound_in_its_namespace_to_the_access_entrys_group():
    roles, bindings = of_kind("Role"), of_kind("RoleBinding")
    assert set(roles) == set(bindings) == {SERVICE_NAMESPACE, "knative-serving"}
    config = yaml.safe_load(rendered("eks-cluster.yaml", AWS_ACCOUNT_ID=ACCOUNT))
    (entry,) = config["accessConfig"]["accessEntries"]
    for namespace, binding in bindings.items():
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": roles[namespace]["metadata"]["name"],
        }
        assert [(s["kind"], s["name"]) for s in binding["subjects"]] == [
            ("Group", group) for group in entry["kubernetesGroups"]
        ]


Grant = tuple[str, str, str, str | None]  # verb, group/resource, namespace, name (None: any)


def allowed() -> set[Grant]:
    """What the Roles grant."""
    return {
        (verb, f"{group}/{resource}", namespace, name)
        for namespace, role in of_kind("Role").items()
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
        for name in rule.get("resourceNames", [None])
    }


# What Kubernetes' default ClusterRoles grant every authenticated user (kubernetes
# plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go): API discovery, the non-resource
# URLs /api/* and /apis/* (system:discovery), and SelfSubjectAccessReviews (system:basic-user).
EVERYONE = {("get", "/apis/*"), ("create", "authorization.k8s.io/selfsubjectaccessreviews")}


def permits(verb: str, resource: str, namespace: str | None, name: str | None) -> bool:
    if any(verb == v and fnmatchcase(resource, r) for v, r in EVERYONE):
        return True
    return {
        (verb, resource, namespace, None),
        (verb, resource, namespace, name),
    } & allowed() != set()


KNATIVE = {
    "serving.knative.dev/services",
    "serving.knative.dev/revisions",
    "serving.knative.dev/routes",
}
LEASES = "coordination.k8s.io/leases"


def test_the_roles_read_and_patch_knative_objects_hold_one_lease_and_read_two_settings():
    grants = allowed()
    verbs = {(verb, resource) for verb, resource, namespace, _ in grants}
    knative = {(v, r) for v, r in verbs if r in KNATIVE}
    assert {r for _, r in knative} == KNATIVE
    assert {v for v, _ in knative} == {"get", "list", "watch", "patch"}
    assert {r for v, r in verbs if v == "patch"} == {"serving.knative.dev/services"}
    lease = {(verb, name) for verb, resource, _, name in grants if resource == LEASES}
    assert lease == {
        ("create", None),
        ("get", "house-price-rollout"),
        ("update", "house-price-rollout"),
    }
    core = {(v, r, ns, name) for v, r, ns, name in grants if r.startswith("/")}
    assert core == {
        ("list", "/pods", SERVICE_NAMESPACE, None),
        ("get", "/configmaps", "knative-serving", "config-features"),
        ("get", "/configmaps", "knative-serving", "config-deployment"),
    }
    assert {ns for _, r, ns, _ in grants if r != "/configmaps"} == {SERVICE_NAMESPACE}


def test_the_roles_grant_the_verbs_doctor_asks_for_and_reads_of_knative_objects_besides():
    asked = accesses(SERVICE_NAMESPACE, "house-price")
    kinds = {(a.verb, f"{a.group}/{a.resource}", a.namespace) for a in asked}
    assert [
        a for a in asked if not permits(a.verb, f"{a.group}/{a.resource}", a.namespace, a.name)
    ] == []
    unasked = {
        (verb, resource) for verb, resource, ns, _ in allowed() if (verb, resource, ns) not in kinds
    }
    services, revisions, routes = (
        f"serving.knative.dev/{r}" for r in ("services", "revisions", "routes")
    )
    assert unasked == {  # what `kubectl get ksvc` and people read: whole lists, watched
        ("list", services),
        ("watch", services),
        ("watch", revisions),
        ("get", routes),
        ("list", routes),
        ("watch", routes),
    }


@pytest.fixture
def every_call_of_a_release(tmp_path, monkeypatch):
    """The (verb, group/resource, namespace, name) of every call a whole release makes with the
    rollout tool, doctor first."""
    monkeypatch.chdir(tmp_path)  # where the gated commands write their reports
    green, blue = FakeTagRoute("house-price-v2-bbbbbbb", "v2"), FakeTagRoute("house-price-v1", "v1")
    with FakeKnative.started() as fake, green.running(), blue.running():
        fake.tag_urls |= {"green": green.url, "blue": blue.url}
        kubeconfig = fake.kubeconfig(tmp_path / "kubeconfig")
        fake.revision_ready_after = 6  # ticks: green deploys a while, so its pods are read
        clock = FakeClock()
        for command in (
            ["doctor"],  # exit 1: the fake's route is not HTTPS; its API calls are what count
            ["deploy", "--image", "registry.example/hp:b", "--model-version", "2", "--release"]
            + ["bbbbbbb"],
            ["shift", "--to", "house-price-v2-bbbbbbb", "--probe-requests", "2"],
            ["promote", "--probe-requests", "2"],
            ["rollback"],
            ["status"],
        ):
            code = main(["--kubeconfig", kubeconfig, *command], clock=clock)
            assert code == (1 if command == ["doctor"] else 0), command
        return {_call(method, path) for method, path in fake.requests}


def _call(method: str, path: str) -> Grant:
    """The RBAC verb, group/resource, namespace and name of a request, as the API server
    authorizes it (a non-resource URL: its path, no namespace, no name)."""
    path = urlsplit(path).path
    verb = {"GET": "get", "PATCH": "patch", "POST": "create", "PUT": "update"}[method]
    if match := PATH.fullmatch(path):
        resource = f"{match['group']}/{match['plural']}"
        namespace, name = match["namespace"], match["name"]
    elif (match := CLUSTER_PATH.fullmatch(path))["group"]:
        return verb, path, None, None  # discovery
    elif match["review"]:
        return verb, "authorization.k8s.io/selfsubjectaccessreviews", None, None
    elif match["configmap"]:
        resource, namespace, name = "/configmaps", match["namespace"], match["configmap"]
    else:
        assert match["pods"], path
        resource, namespace, name = "/pods", match["namespace"], None
    return ("list" if verb == "get" and name is None else verb), resource, namespace, name


def covers(access: Access, grant: Grant) -> bool:
    """Whether ``access`` (of doctor's list) is the request or grant ``grant``."""
    verb, resource, namespace, name = grant
    same = (access.verb, f"{access.group}/{access.resource}", access.namespace)
    return same == (verb, resource, namespace) and access.name in (None, name)


def test_the_roles_allow_every_call_the_rollout_tool_makes(every_call_of_a_release):
    verbs = {(verb, resource) for verb, resource, _, _ in every_call_of_a_release}
    assert ("patch", "serving.knative.dev/services") in verbs  # deploy, its dry run, the shifts
    assert {("create", LEASES), ("update", LEASES)} <= verbs  # the lease
    assert ("list", "/pods") in verbs  # the wait for green read its pods
    assert ("get", "/configmaps") in verbs  # doctor
    assert [call for call in every_call_of_a_release if not permits(*call)] == []


def test_doctor_asks_for_every_verb_the_tool_uses_and_no_other(every_call_of_a_release):
    asked = accesses(SERVICE_NAMESPACE, "house-price")
    made = [call for call in every_call_of_a_release if call[2] is not None]  # not discovery, SSAR
    assert [call for call in made if not any(covers(a, call) for a in asked)] == []
    assert [a for a in asked if not any(covers(a, call) for call in made)] == []


PORT_FORWARD = "kubectl port-forward --namespace monitoring svc/kube-prometheus-stack-prometheus"


def test_the_pipeline_uses_kubectl_only_to_read_the_service_and_reach_prometheus():
    lines = [
        line.strip() for command in run_commands(circleci_config()) for line in command.split("\n")
    ]
    calls = [line for line in lines if line.startswith("kubectl ") and "--client" not in line]
    reads = [call for call in calls if call.startswith("kubectl get ksvc ")]
    assert reads and [call for call in calls if call not in reads] == [f"{PORT_FORWARD} 9090:9090"]


def test_in_monitoring_the_role_may_only_port_forward_to_prometheus():
    documents = yaml.safe_load_all((CLUSTER / "ci-rbac-prometheus.yaml").read_text())
    role, binding = {d["kind"]: d for d in documents}.values()
    assert role["metadata"]["namespace"] == binding["metadata"]["namespace"] == "monitoring"
    assert (
        binding["subjects"] == of_kind("RoleBinding")[SERVICE_NAMESPACE]["subjects"]
    )  # CI's group
    granted = {
        (verb, resource, name)
        for rule in role["rules"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
        for name in rule.get("resourceNames", [None])
    }
    service = PORT_FORWARD.rsplit("svc/", 1)[1]
    assert granted == {
        ("get", "services", service),
        ("get", "pods", None),
        ("list", "pods", None),
        # kubectl 1.31+ opens the forward as a WebSocket: an HTTP GET, authorized as `get`;
        # `create` (a POST) is the SPDY transport it falls back to.
        ("get", "pods/portforward", None),
        ("create", "pods/portforward", None),
    }
    kubectl = circleci_config()["commands"]["kubectl"]["parameters"]["version"]["default"]
    assert tuple(map(int, kubectl.lstrip("v").split(".")[:2])) >= (1, 31)
