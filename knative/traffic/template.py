"""The revision template a deploy writes: its name (model version and release), image, model path.

Knative never lets a template change keep its revision name, so every release needs a name of
its own: ``house-price-v2-1a2b3c4`` serves model v2 from the release (git sha) 1a2b3c4.
"""

import copy
import re

from knative.errors import RolloutError
from knative.traffic.rules import revision_name_errors

MODEL_DIR = "/app/model_data"
INITIAL_SCALE = "autoscaling.knative.dev/initial-scale"
RELEASE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def revision_name(service: str, model_version: str, release: str) -> str:
    """``house-price``, ``2``, ``1a2b3c4`` → ``house-price-v2-1a2b3c4``."""
    if not re.fullmatch(r"[0-9]+", model_version):
        raise RolloutError(f"--model-version wants a number like 2, got {model_version!r}")
    if not RELEASE.fullmatch(release):
        raise RolloutError(
            f"--release wants lowercase letters, digits and '-' (a short git sha), got {release!r}"
        )
    name = f"{service}-v{model_version}-{release}"
    if revision_name_errors("revision", name, service):
        raise RolloutError(f"revision name {name} is longer than 63 characters; shorten --release")
    return name


def model_path(model_version: str) -> str:
    return f"{MODEL_DIR}/model-v{model_version}.onnx"


def new_template(
    service: dict, revision: str, image: str, model: str, initial_scale: int | None = None
) -> dict:
    """The Service's template with a new revision name, image and ``MODEL_PATH`` (and
    ``initial-scale``, if given: Knative reads it only when it makes the revision, so it sizes
    this one alone); all else kept.

    The whole containers list is sent, since a merge patch replaces lists.
    """
    if not image or any(c.isspace() for c in image):
        raise RolloutError(f"--image wants an image reference, got {image!r}")
    template = copy.deepcopy(service["spec"]["template"])
    template.setdefault("metadata", {})["name"] = revision
    if initial_scale is not None:
        template["metadata"].setdefault("annotations", {})[INITIAL_SCALE] = str(initial_scale)
    container = template["spec"]["containers"][0]
    container["image"] = image
    env = [var for var in container.get("env", []) if var["name"] != "MODEL_PATH"]
    container["env"] = env + [{"name": "MODEL_PATH", "value": model}]
    return template


def serves(revision: dict, image: str, model: str) -> bool:
    """Whether an existing revision runs ``image`` with ``MODEL_PATH`` = ``model``."""
    container = revision["spec"]["containers"][0]
    env = {var["name"]: var.get("value") for var in container.get("env", [])}
    return container.get("image") == image and env.get("MODEL_PATH") == model
