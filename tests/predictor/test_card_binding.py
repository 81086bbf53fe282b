"""The card cannot lie: what the server trusts from the model card (name, version, feature order)
must match what training wrote into the artifact, and MODEL_PATH must be a bounded regular file."""

import hashlib
import json
import os
import resource
import subprocess
import sys

import onnx
import pytest

from function import create_app
from loadtest.local_server import REPO
from tests.support.repo import SAMPLE_ROW


def edit_card(model_copy, change):
    card_path = model_copy.with_suffix(".json")
    card = json.loads(card_path.read_text())
    change(card)
    card_path.write_text(json.dumps(card))


def swap_rm_and_lstat(card):
    features = card["features"]
    rm, lstat = (next(i for i, f in enumerate(features) if f["name"] == n) for n in ("RM", "LSTAT"))
    features[rm], features[lstat] = features[lstat], features[rm]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (swap_rm_and_lstat, "model card gives features ['CHAS', 'LSTAT'"),
        (lambda card: card.update(version="v2"), "model card gives version 'v2'"),
        (lambda card: card.update(name="house-value"), "model card gives name 'house-value'"),
    ],
    ids=["feature order", "version", "name"],
)
def test_a_card_that_disagrees_with_its_artifact_keeps_the_server_not_ready(
    model_copy, change, words
):
    edit_card(model_copy, change)
    client = create_app({"model_path": model_copy}).test_client()
    for response in (client.get("/readyz"), client.post("/predict", json=[SAMPLE_ROW])):
        assert response.status_code == 503
        error = response.get_json()["error"]
        assert words in error and "but the artifact was trained with" in error


def test_an_artifact_that_does_not_say_what_it_was_trained_on_is_not_served(model_copy):
    model = onnx.load(model_copy)
    del model.metadata_props[:]
    model_copy.write_bytes(model.SerializeToString())
    digest = hashlib.sha256(model_copy.read_bytes()).hexdigest()
    edit_card(model_copy, lambda card: card["artifacts"]["onnx"].update(sha256=digest))
    response = create_app({"model_path": model_copy}).test_client().get("/readyz")
    assert (
        response.status_code == 503 and "does not record its name" in response.get_json()["error"]
    )


def limit_memory():
    """So that a server reading a device or a huge file fails instead of eating the machine."""
    resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["device", "huge file"])
def test_model_path_to_a_device_or_a_huge_file_fails_fast(model_copy, kind):
    model_copy.unlink()
    if kind == "device":
        os.symlink("/dev/zero", model_copy)
    else:
        with model_copy.open("wb") as sparse:
            sparse.truncate(4 * 1024**3)
    result = subprocess.run(
        [sys.executable, "-m", "function"], cwd=REPO, capture_output=True, text=True, timeout=30,
        env={**os.environ, "MODEL_PATH": str(model_copy)}, preexec_fn=limit_memory,
    )  # fmt: skip
    assert result.returncode == 1
    expected = "is not a regular file" if kind == "device" else "at most 268435456 are read"
    assert result.stderr.startswith("house-price: cannot start: model artifact")
    assert expected in result.stderr and result.stderr.count("\n") == 1
