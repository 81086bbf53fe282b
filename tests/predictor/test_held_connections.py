"""More idle connections held than granian's default backpressure (1,024): a new client is still
answered at once, not after an idle connection times out (MAX_CONNECTIONS). Real sockets."""

import contextlib
import resource

import pytest
import requests

from function.__main__ import allow_open_files
from loadtest.local_server import start_server, stop, wait_ready
from tests.predictor import raw_http

pytestmark = pytest.mark.slow

HELD = 1100  # granian's default backpressure is backlog / workers = 1,024 connections
READ_TIMEOUT = 30  # the server cuts idle connections after this; no answer may wait for it


@pytest.fixture
def open_files_for_the_held_connections():
    """A soft open-file limit (inherited by the server) with room for HELD sockets each side."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = HELD + 256
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))  # fails if hard < needed
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_new_client_is_answered_while_more_than_1024_idle_connections_are_held(
    open_files_for_the_held_connections,
):
    process, url = start_server(READ_TIMEOUT_SECONDS=str(READ_TIMEOUT))
    with contextlib.ExitStack() as held:
        held.callback(stop, process)
        wait_ready(process, url)
        idle = [held.enter_context(raw_http.connect(url)) for _ in range(HELD)]
        # Well within the read timeout: with granian's default, this waited for it
        response = requests.get(f"{url}/healthz", timeout=READ_TIMEOUT / 3)
        assert response.status_code == 200 and response.json() == {"live": True}
        # The held connections were accepted, the last as well, and are served
        idle[-1].settimeout(READ_TIMEOUT / 3)
        idle[-1].sendall(raw_http.head("GET", "/readyz"))
        assert raw_http.read_reply(idle[-1])[0] == 200


@pytest.fixture
def soft_limit_512():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (512, hard))
    yield hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_server_raises_its_soft_open_file_limit_to_what_max_connections_needs(soft_limit_512):
    """A container's soft limit is often 1,024: past it, accept fails and granian retries at
    once, spinning a core while new connections wait."""
    allow_open_files(600)
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == (600, soft_limit_512)
    allow_open_files(100)  # never lowered
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == 600
    with pytest.raises(ValueError, match=f"at most {soft_limit_512} are allowed here"):
        allow_open_files(soft_limit_512 + 1)
