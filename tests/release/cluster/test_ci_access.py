"""CI's way into AWS and the cluster: CircleCI OIDC → an IAM role of this project only → an EKS
access entry → a namespaced Role that allows what the release does (the rollout tool, its lock,
kubectl get) and nothing more. The IAM
files are checked as AWS would read them once the README's envsubst filled them in; the Role
against every call the rollout tool makes to the fake Knative API."""

import json
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

import pytest
import yaml

from knative.rollout import main
from tests.release.files import circleci_config, run_commands
from tests.release.manifests.knative_manifests import CLUSTER, PHASES, phase_service, rendered
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


def rbac() -> dict:
    return {d["kind"]: d for d in yaml.safe_load_all((CLUSTER / "ci-rbac.yaml").read_text())}


def test_only_this_projects_jobs_may_assume_the_role():
    (statement,) = policy("ci-role-trust-policy.json")["Statement"]
    assert statement["Principal"] == {
        "Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{PROVIDER}"
    }
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"]["StringEquals"] == {f"{PROVIDER}:aud": ORG}
    (subject,) = statement["Condition"]["StringLike"].values()

    def admitted(sub):  # IAM's StringLike: * matches any characters, / included
        return fnmatchcase(sub, subject)

    assert admitted(f"org/{ORG}/project/{PROJECT}/user/9d8e7f")
    assert admitted(f"org/{ORG}/project/{PROJECT}/user/9d8e7f/vcs-origin/x/vcs-ref/refs/heads/main")
    assert not admitted(f"org/{ORG}/project/another-project/user/9d8e7f")
    assert not admitted(f"org/another-org/project/{PROJECT}/user/9d8e7f")


def test_the_role_may_push_one_repository_and_find_one_cluster():
    statements = policy("ci-role-policy.json")["Statement"]
    granted = {
        action: statement["Resource"]
        for statement in statements
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else [])
        + (statement["Action"] if isinstance(statement["Action"], list) else [])
    }
    assert all(statement["Effect"] == "Allow" for statement in statements)
    assert not [action for action in granted if "*" in action]
    assert granted.pop("ecr:GetAuthorizationToken") == "*"  # login has no resource of its own
    assert granted.pop("eks:DescribeCluster") == (
        f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/house-price"
    )
    assert set(granted.values()) == {f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/house-price"}
    assert {"ecr:PutImage", "ecr:UploadLayerPart"} <= set(granted)
    assert all(action.startswith("ecr:") for action in granted)


def test_the_role_is_bound_in_the_services_namespace_to_the_access_entrys_group():
    role, binding = rbac()["Role"], rbac()["RoleBinding"]
    namespace = phase_service(PHASES[0])["metadata"]["namespace"]
    assert role["metadata"]["namespace"] == binding["metadata"]["namespace"] == namespace
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    config = yaml.safe_load(rendered("eks-cluster.yaml", AWS_ACCOUNT_ID=ACCOUNT))
    (entry,) = config["accessConfig"]["accessEntries"]
    assert [(s["kind"], s["name"]) for s in binding["subjects"]] == [
        ("Group", group) for group in entry["kubernetesGroups"]
    ]


def allowed() -> set[tuple[str, str, str | None]]:
    """(verb, group/resource, name or None for any) triples the Role grants."""
    return {
        (verb, f"{group}/{resource}", name)
        for rule in rbac()["Role"]["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
        for name in rule.get("resourceNames", [None])
    }


def permits(verb: str, resource: str, name: str | None) -> bool:
    return (verb, resource, None) in allowed() or (verb, resource, name) in allowed()


KNATIVE = {
    "serving.knative.dev/services",
    "serving.knative.dev/revisions",
    "serving.knative.dev/routes",
}
LEASES = "coordination.k8s.io/leases"


def test_the_role_only_reads_and_patches_knative_objects_and_holds_one_lease():
    verbs = {(verb, resource) for verb, resource, _ in allowed()}
    assert {r for v, r in verbs if r != LEASES} == KNATIVE
    assert {v for v, r in verbs if r != LEASES} == {"get", "list", "watch", "patch"}
    assert {r for v, r in verbs if v == "patch"} == {"serving.knative.dev/services"}
    lease = {(verb, name) for verb, resource, name in allowed() if resource == LEASES}
    assert lease == {
        ("create", None),
        ("get", "house-price-rollout"),
        ("update", "house-price-rollout"),
    }


@pytest.fixture
def every_call_of_a_release(tmp_path, monkeypatch):
    """The (verb, resource) of every call a whole release makes with the rollout tool."""
    monkeypatch.chdir(tmp_path)  # where the gated commands write their reports
    green, blue = FakeTagRoute("house-price-v2-bbbbbbb", "v2"), FakeTagRoute("house-price-v1", "v1")
    with FakeKnative.started() as fake, green.running(), blue.running():
        fake.tag_urls |= {"green": green.url, "blue": blue.url}
        kubeconfig = fake.kubeconfig(tmp_path / "kubeconfig")
        clock = FakeClock()
        for command in (
            ["deploy", "--image", "registry.example/hp:b", "--model-version", "2", "--release"]
            + ["bbbbbbb"],
            ["shift", "--to", "house-price-v2-bbbbbbb", "--probe-requests", "2"],
            ["promote", "--probe-requests", "2"],
            ["rollback"],
            ["status"],
        ):
            assert main(["--kubeconfig", kubeconfig, *command], clock=clock) == 0, command
        return {_verb(method, path) for method, path in fake.requests}


def _verb(method: str, path: str) -> tuple[str, str, str | None]:
    """The RBAC verb, group/resource and name of a request, as the API server authorizes it."""
    match = PATH.fullmatch(urlsplit(path).path)
    resource, name = f"{match['group']}/{match['plural']}", match["name"]
    if method == "GET":
        return ("get" if name else "list"), resource, name
    return {"PATCH": "patch", "POST": "create", "PUT": "update"}[method], resource, name


def test_the_role_allows_every_call_the_rollout_tool_makes(every_call_of_a_release):
    verbs = {(verb, resource) for verb, resource, _ in every_call_of_a_release}
    assert ("patch", "serving.knative.dev/services") in verbs  # deploy, its dry run, the shifts
    assert {("create", LEASES), ("update", LEASES)} <= verbs  # the lock
    assert [call for call in every_call_of_a_release if not permits(*call)] == []


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
    assert binding["subjects"] == rbac()["RoleBinding"]["subjects"]  # CI's group
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
