"""``doctor`` against the fake API (ConfigMaps, discovery, SelfSubjectAccessReview), a fake
Prometheus and an HTTPS route on 127.0.0.1: every check holds on a cluster set up as ``cluster/``
does it, and each missing piece fails its own check, with the fix."""

import pytest

from knative.commands.doctor import accesses
from tests.rollout.fake_knative_conditions import container_exits
from tests.rollout.gates.fake_prometheus import BUILD_INFO, FakePrometheus, vector
from tests.rollout.shared import V1
from tests.support.loopback_server import JsonHandler, self_signed, serving

VERBS = accesses("house-price", "house-price")  # the list doctor asks for, held to the Role by
# tests/release/cluster/test_ci_access.py
CHECKS = 7 + len(VERBS) + 1  # resources, version, 2 settings, tag resolution, namespace, Service,
# the verbs, HTTPS


class Healthz(JsonHandler):
    def do_GET(self):
        self.reply(200 if self.path == "/healthz" else 404, {"status": "ok"})


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def https_route(certificate, monkeypatch):
    """The Service's URL, served over HTTPS with a certificate the client is told to trust."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
    with serving(Healthz, tls=certificate) as url:
        yield url


@pytest.fixture
def cluster(deployed, https_route):
    fake, rollout = deployed
    fake.service_url = https_route
    return fake, rollout


def doctor(rollout, capsys, *args) -> tuple[int, dict[str, list[str]]]:
    """The exit code and the lines, ✓ and ✗ apart."""
    code = rollout("doctor", *args)
    lines = capsys.readouterr().out.splitlines()
    return code, {mark: [line[2:] for line in lines if line.startswith(mark)] for mark in "✓✗"}


def test_a_cluster_set_up_as_the_project_does_passes_every_check(cluster, capsys):
    fake, rollout = cluster
    code, lines = doctor(rollout, capsys)
    assert code == 0 and lines["✗"] == [] and len(lines["✓"]) == CHECKS
    said = "\n".join(lines["✓"])
    assert "serving.knative.dev/v1 serves configurations, revisions, routes, services" in said
    assert "Knative Serving 1.23.0" in said
    assert "tag-header-based-routing is enabled" in said
    assert "pod-is-always-schedulable is true" in said
    assert "registry.example.com is in registries-skipping-tag-resolving" in said
    assert f"service house-price is Ready, serving {V1} 100 %" in said
    assert "/healthz answers HTTP 200 over HTTPS" in said
    asked = [(r["verb"], r.get("resource"), r["namespace"]) for r in fake.cluster.reviews]
    assert asked == [(a.verb, a.resource, a.namespace) for a in VERBS]
    assert "may list pods in house-price" in said
    assert "may get configmaps config-features in knative-serving" in said


def failing(rollout, capsys, *args) -> list[str]:
    code, lines = doctor(rollout, capsys, *args)
    assert code == 1
    return lines["✗"]


def test_knative_not_installed_fails_its_check(cluster, capsys):
    fake, rollout = cluster
    fake.cluster.knative_installed = False
    [line, *_] = failing(rollout, capsys)
    assert "serving.knative.dev/v1 lacks configurations, revisions, routes, services" in line
    assert "fix: install Knative Serving 1.23" in line


def test_another_knative_version_fails_its_check(cluster, capsys):
    fake, rollout = cluster
    labels = fake.cluster.configmaps["config-deployment"]["metadata"]["labels"]
    labels["app.kubernetes.io/version"] = "1.19.2"
    [line] = failing(rollout, capsys)
    assert line.startswith("Knative Serving 1.19.2 (the rollout tool is modelled on 1.23)")


@pytest.mark.parametrize(
    ("configmap", "key", "value", "said", "fix"),
    [
        (
            "config-features",
            "tag-header-based-routing",
            None,
            "tag-header-based-routing is unset (Disabled)",
            "set it to Enabled in cluster/config-features.yaml",
        ),
        (
            "config-features",
            "tag-header-based-routing",
            "Disabled",
            "tag-header-based-routing is Disabled",
            "cluster/config-features.yaml",
        ),
        (
            "config-deployment",
            "pod-is-always-schedulable",
            "false",
            "pod-is-always-schedulable is false",
            'set it to "true" in cluster/config-deployment.yaml',
        ),
        (
            "config-deployment",
            "registries-skipping-tag-resolving",
            "kind.local,ko.local,dev.local",
            "resolves tags of registry.example.com itself",
            "list registry.example.com in registries-skipping-tag-resolving in "
            "cluster/config-deployment.yaml",
        ),
    ],
)
def test_each_missing_setting_fails_its_check(cluster, capsys, configmap, key, value, said, fix):
    fake, rollout = cluster
    data = fake.cluster.configmaps[configmap]["data"]
    if value is None:
        del data[key]
    else:
        data[key] = value
    [line] = failing(rollout, capsys)
    assert said in line and fix in line


def test_settings_it_may_not_read_fail_with_the_api_servers_words(cluster, capsys):
    fake, rollout = cluster
    fake.cluster.deny("get", "", "configmaps")
    lines = failing(rollout, capsys)
    assert len(lines) == 6  # version, two settings, tag resolution, the two verbs asked
    assert 'configmaps "config-deployment" is forbidden' in lines[0]
    assert "fix: let the release's group read it" in lines[0]


@pytest.mark.parametrize("access", [a for a in VERBS if a.resource != "configmaps"], ids=str)
def test_each_verb_the_tool_uses_is_asked_and_a_missing_one_fails(cluster, capsys, access):
    fake, rollout = cluster
    fake.cluster.deny(access.verb, access.group, access.resource)
    [line] = failing(rollout, capsys)
    assert line.startswith(f"may not {access}; fix: grant it")
    assert "cluster/ci-rbac.yaml" in line


def test_a_missing_service_fails_its_check_and_its_namespace_is_not_read(cluster, capsys):
    fake, rollout = cluster
    del fake.services["house-price"]
    lines = failing(rollout, capsys)
    assert (
        "service house-price does not exist in namespace house-price (the namespace may be "
        "missing too); fix: deploy the first release, which makes the namespace too: "
        "knative/render.sh 1-blue | kubectl apply -f - (cluster/README.md)"
    ) in lines
    # Namespaces are cluster-scoped and CI's Roles grant nothing there: doctor never asks.
    assert [p for _, p in fake.requests if p.rstrip("/").endswith("/namespaces/house-price")] == []
    assert [line for line in lines if "403" in line] == []


def test_a_service_that_is_not_ready_fails_its_check(cluster, capsys):
    fake, rollout = cluster
    fake.failing_revisions[V1] = container_exits("model-v1.onnx: no such file")
    lines = failing(rollout, capsys)
    assert lines[0].startswith(
        'service house-price is NOT Ready (Revision "house-price-v1" failed to become ready.)'
    )


def test_a_route_over_plain_http_fails_its_check(cluster, capsys):
    fake, rollout = cluster
    fake.service_url = None  # Knative's own: http://house-price.house-price.example.com
    [line] = failing(rollout, capsys)
    assert "is not HTTPS; fix: serve it over HTTPS on your domain: cluster/install-tls.sh" in line


def test_a_certificate_the_client_does_not_trust_fails_the_https_check(
    cluster, capsys, monkeypatch
):
    _, rollout = cluster
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    [line] = failing(rollout, capsys)
    assert "/healthz: TLS failed" in line and "CERTIFICATE_VERIFY_FAILED" in line


SCRAPED = vector(({"__name__": "house_price_model_info", "revision": V1}, 1.0))


def test_with_prometheus_it_checks_that_prometheus_scrapes_the_incumbent(cluster, capsys):
    _, rollout = cluster
    answers = {"/api/v1/status/buildinfo": (200, BUILD_INFO), "/api/v1/query": (200, SCRAPED)}
    with FakePrometheus(answers).running() as prometheus:
        code, lines = doctor(rollout, capsys, "--prometheus-url", prometheus.url)
    assert code == 0 and len(lines["✓"]) == CHECKS + 1
    assert f"Prometheus 2.42.0 at {prometheus.url} scrapes {V1}" in lines["✓"]


def test_a_prometheus_that_does_not_scrape_the_incumbent_fails_its_check(cluster, capsys):
    _, rollout = cluster
    answers = {"/api/v1/status/buildinfo": (200, BUILD_INFO), "/api/v1/query": (200, vector())}
    with FakePrometheus(answers).running() as prometheus:
        [line] = failing(rollout, capsys, "--prometheus-url", prometheus.url)
    assert f"has no house_price_model_info of {V1}" in line
