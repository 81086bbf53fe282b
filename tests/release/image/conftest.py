"""The image under test, built once for all the tests here."""

import shutil
import subprocess
import uuid

import pytest

from tests.release.image.podman import podman
from tests.support.repo import REPO


@pytest.fixture(scope="session")
def image():
    """The Dockerfile built by image/build.sh (which makes the stand-in base if it is missing),
    under a tag of its own: test runs of other checkouts on the same host build theirs."""
    if shutil.which("podman") is None:
        pytest.fail("the image test needs podman (with runc and mmdebstrap); .ci/run installs them")
    tag = f"localhost/house-price:test-{uuid.uuid4().hex[:8]}"
    result = subprocess.run(
        [REPO / "image" / "build.sh", tag], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    try:
        yield tag
    finally:
        podman("untag", tag)  # the layers stay cached for the next build
