"""Fixtures of the rollout tests: a fake Knative API with a Service, the client to it, and the
tag routes of both revisions.

Every rollout test runs in its own temporary folder: a report the tool writes by default
(``reports/``) lands there, never in the repository.
"""

import pytest

from knative.kube.calls import Calls, connect
from knative.kube.service import KnativeService
from tests.rollout.fake_knative_api import FakeKnative
from tests.rollout.fake_tag_route import FakeTagRoute
from tests.rollout.shared import DEPLOYED, REQUEST_TIMEOUT, V1, V2, cli
from tests.support.fake_clock import FakeClock


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def route():
    """The green tag URL: house-price-v2 serving model v2."""
    with FakeTagRoute(V2, "v2").running() as running:
        yield running


@pytest.fixture
def blue_route():
    """The blue tag URL: house-price-v1 serving model v1, what the quality gate compares with."""
    with FakeTagRoute(V1, "v1").running() as running:
        yield running


@pytest.fixture
def fresh(tmp_path):
    """Only house-price-v1, serving everything: before the first deploy."""
    with FakeKnative.started() as fake:
        yield fake, cli(fake, tmp_path)


@pytest.fixture
def deployed(tmp_path, route, blue_route):
    """house-price-v1 at 100 % tagged blue, house-price-v2 at 0 % tagged green (the routes)."""
    with FakeKnative.started(revisions=(V1, V2), traffic=DEPLOYED) as fake:
        fake.tag_urls |= {"green": route.url, "blue": blue_route.url}
        yield fake, cli(fake, tmp_path)


@pytest.fixture
def knative():
    """The fake API: house-price-v1 serving everything, house-price-v2 Ready beside it."""
    with FakeKnative.started(revisions=(V1, V2)) as fake:
        yield fake


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def service(knative, tmp_path, clock):
    """The Service through the real client: a short timeout, retries paused on ``clock``."""
    with connect(knative.kubeconfig(tmp_path / "kubeconfig"), None) as api_client:
        yield KnativeService(
            api_client, "house-price", "house-price", Calls(clock, REQUEST_TIMEOUT)
        )


@pytest.fixture
def unchecked():
    """A write's check that lets every write through."""
    return lambda service: None
