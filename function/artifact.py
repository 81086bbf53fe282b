"""The model card and the integrity check of the artifact it describes (standard library only).

joblib files are pickles and are never loaded at serve time; the server runs the ONNX export of
the same pipeline, and only after its sha256 matches the card.
"""

import hashlib
import json
from pathlib import Path


class ArtifactError(Exception):
    """The artifact or its card is missing, malformed or does not match."""


def read_verified(model_path):
    """Return (card, artifact bytes) once the artifact's sha256 matches its card."""
    path = Path(model_path)
    card_path = path.with_suffix(".json")
    try:
        card = json.loads(card_path.read_text())
        expected = card["artifacts"]["onnx"]["sha256"]
        if not (card["name"] and card["version"] and all(f["name"] for f in card["features"])):
            raise ValueError("name, version and feature names must be set")
    except OSError as exc:
        raise ArtifactError(f"cannot read model card {card_path}: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"model card {card_path} is malformed: {exc!r}") from None
    try:
        artifact = path.read_bytes()
    except OSError as exc:
        raise ArtifactError(f"cannot read model artifact {path}: {exc.strerror}") from None
    actual = hashlib.sha256(artifact).hexdigest()
    if actual != expected:
        raise ArtifactError(
            f"model artifact {path} has sha256 {actual} but its card says {expected}; "
            "refusing to load an unverified file"
        )
    return card, artifact
