"""Fixtures for every test folder: the sample row and a real server process on 127.0.0.1."""

import pytest

from loadtest.local_server import start_server, stop, wait_ready
from tests.support.repo import SAMPLE_ROW


@pytest.fixture
def row():
    """A valid request row (a fresh copy that a test may change)."""
    return dict(SAMPLE_ROW)


@pytest.fixture(scope="module")
def server():
    """A real server process on 127.0.0.1 serving model v1 as revision house-price-v1."""
    process, url = start_server(K_REVISION="house-price-v1")
    try:
        wait_ready(process, url)
        yield url
    finally:
        stop(process)
