"""Fixtures of the rollout tests: tag routes, the fake Knative API before and after ``deploy``.

Every rollout test runs in its own temporary folder: a report the tool writes by default
(``reports/``) lands there, never in the repository.
"""

import pytest

from tests.rollout.fake_knative_api import FakeKnative
from tests.rollout.fake_tag_route import FakeTagRoute
from tests.rollout.rollout_cli import DEPLOYED, V1, V2, cli


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
