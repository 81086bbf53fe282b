"""Fixtures of the command tests, beside those of ``tests/rollout/conftest.py``."""

import pytest

from tests.rollout.fake_tag_route import FakeTagRoute
from tests.rollout.shared import NEW


@pytest.fixture
def green_route():
    """The green tag URL of the revision ``DEPLOY`` makes, serving model v2."""
    with FakeTagRoute(NEW, "v2").running() as running:
        yield running
