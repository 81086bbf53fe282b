"""The revision template a deploy writes: name from the model version, image, model path."""

import copy
import re

from knative.errors import RolloutError

MODEL_DIR = "/app/model_data"


def revision_name(service: str, model_version: str) -> str:
    """``house-price`` and ``2`` → ``house-price-v2`` (Knative wants the service name as prefix)."""
    if not re.fullmatch(r"[0-9]+", model_version):
        raise RolloutError(f"--model-version wants a number like 2, got {model_version!r}")
    return f"{service}-v{model_version}"


def model_path(model_version: str) -> str:
    return f"{MODEL_DIR}/model-v{model_version}.onnx"


def new_template(service: dict, revision: str, image: str, model: str) -> dict:
    """The Service's template with a new revision name, image and ``MODEL_PATH``; all else kept.

    The whole containers list is sent, since a merge patch replaces lists.
    """
    if not image or any(c.isspace() for c in image):
        raise RolloutError(f"--image wants an image reference, got {image!r}")
    template = copy.deepcopy(service["spec"]["template"])
    template.setdefault("metadata", {})["name"] = revision
    container = template["spec"]["containers"][0]
    container["image"] = image
    env = [var for var in container.get("env", []) if var["name"] != "MODEL_PATH"]
    container["env"] = env + [{"name": "MODEL_PATH", "value": model}]
    return template
