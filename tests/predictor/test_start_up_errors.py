"""What stops start-up is one sentence and exit 1: no Python traceback, no Rust panic; a model
that can never load stops it too, with the line in the termination-message file Knative reads."""

import hashlib
import json
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
    return output


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"PORT": "99999"}, "PORT must be positive and at most 65535, got 99999"),
        ({"PORT": "http"}, "PORT must be a whole number, got 'http'"),
        ({"HOST": "256.1.1.1"}, "HOST must be an IP address such as 0.0.0.0, got '256.1.1.1'"),
        ({"HOST": "192.0.2.1"}, "cannot listen on 192.0.2.1 port"),  # TEST-NET-1: not ours
        ({"READ_TIMEOUT_SECONDS": "0"}, "READ_TIMEOUT_SECONDS must be positive"),
        ({"READ_TIMEOUT_SECONDS": "nan"}, "READ_TIMEOUT_SECONDS must be positive"),
        ({"MAX_CONNECTIONS": "0"}, "MAX_CONNECTIONS must be positive, got 0"),
        ({"MAX_CONNECTIONS": str(10**9)}, "MAX_CONNECTIONS needs 1000000064 open files, but"),
    ],
    ids=["port out of range", "port not a number", "host not an address", "address not here",
         "no read time", "read time nan", "no connections", "more connections than files"],
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


def corrupt_artifact_with_a_matching_card(model):
    model.write_bytes(b"\x08\x07 not an ONNX model")
    card = json.loads(model.with_suffix(".json").read_text())
    card["artifacts"]["onnx"]["sha256"] = hashlib.sha256(model.read_bytes()).hexdigest()
    model.with_suffix(".json").write_text(json.dumps(card))


def card_of_another_version(model):
    card = json.loads(model.with_suffix(".json").read_text())
    model.with_suffix(".json").write_text(json.dumps(card | {"version": "v2"}))


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda model: model.unlink(), "cannot read model artifact"),
        (corrupt_artifact_with_a_matching_card, "ONNX Runtime cannot use model artifact"),
        (card_of_another_version, "model card gives version 'v2' but the artifact was trained"),
        (lambda model: model.write_bytes(b"altered"), "refusing to load an unverified file"),
    ],
    ids=["missing artifact", "corrupt artifact, matching card", "card disagrees", "altered"],
)
def test_a_model_that_can_never_load_stops_the_container(model_copy, tmp_path, damage, words):
    """Knative then reports the line as the revision's reason at once, not after its 10-minute
    progress deadline; the kubelet reads it from the termination-message file."""
    damage(model_copy)
    termination_log = tmp_path / "termination-log"
    termination_log.touch()  # the kubelet creates it in every container
    env = {"MODEL_PATH": str(model_copy), "TERMINATION_MESSAGE_PATH": str(termination_log)}
    output = assert_one_sentence(env, words)
    assert termination_log.read_text() == output


def test_no_termination_message_file_outside_a_container(model_copy, tmp_path):
    model_copy.unlink()
    absent = tmp_path / "termination-log"
    env = {"MODEL_PATH": str(model_copy), "TERMINATION_MESSAGE_PATH": str(absent)}
    assert_one_sentence(env, "cannot read model artifact")
    assert not absent.exists()
