"""What stops start-up is one sentence and exit 1: no Python traceback, no Rust panic."""

import socket

import pytest

from tests.predictor import processes

pytestmark = pytest.mark.slow


def assert_one_sentence(env, words):
    process, _ = processes.start(**env)
    code, output = processes.finish(process, 30)  # a server that did start is killed, worker too
    assert code == 1
    assert output.startswith("house-price: cannot start: ") and words in output
    assert output.count("\n") == 1


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"PORT": "99999"}, "PORT must be positive and at most 65535, got 99999"),
        ({"PORT": "http"}, "PORT must be a whole number, got 'http'"),
        ({"HOST": "256.1.1.1"}, "HOST must be an IP address such as 0.0.0.0, got '256.1.1.1'"),
        ({"HOST": "192.0.2.1"}, "cannot listen on 192.0.2.1 port"),  # TEST-NET-1: not ours
        ({"READ_TIMEOUT_SECONDS": "0"}, "READ_TIMEOUT_SECONDS must be positive"),
        ({"READ_TIMEOUT_SECONDS": "nan"}, "READ_TIMEOUT_SECONDS must be positive"),
    ],
    ids=["port out of range", "port not a number", "host not an address", "address not here",
         "no read time", "read time nan"],
)  # fmt: skip
def test_bad_settings(env, words):
    assert_one_sentence(env, words)


@pytest.mark.parametrize("shared", [False, True], ids=["plain", "SO_REUSEPORT as granian binds"])
def test_port_in_use(shared):
    """Another granian (this server, started twice) would share the port without the check."""
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, int(shared))
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        words = f"cannot listen on 127.0.0.1 port {port}: Address already in use"
        assert_one_sentence({"PORT": str(port)}, words)
