"""The model card and the integrity check of the artifact it describes (standard library only).

joblib files are pickles and are never loaded at serve time; the server runs the ONNX export of
the same pipeline, and only after its sha256 matches the card. Only regular files of bounded
size are read, so that a path to a device or a huge file fails at once instead of eating memory.
"""

import hashlib
import json
import stat
from pathlib import Path
from typing import Any

MAX_CARD_BYTES = 1024 * 1024
MAX_ARTIFACT_BYTES = 256 * 1024 * 1024  # the committed models are 50 and 160 KB


class ArtifactError(Exception):
    """The artifact or its card is missing, malformed or does not match."""


def read_verified(model_path: str | Path) -> tuple[dict[str, Any], bytes]:
    """Return (card, artifact bytes) once the artifact's sha256 matches its card."""
    path = Path(model_path)
    card_path = path.with_suffix(".json")
    raw_card = _read_file(card_path, MAX_CARD_BYTES, "model card")
    try:
        card = json.loads(raw_card)
        expected = card["artifacts"]["onnx"]["sha256"]
        if not (card["name"] and card["version"] and all(f["name"] for f in card["features"])):
            raise ValueError("name, version and feature names must be set")
        labels = card["target"]["min"], card["target"]["max"]  # the predicted prices' buckets
        if not (set(map(type, labels)) <= {int, float} and labels[0] < labels[1]):
            raise ValueError(f"target min and max must be numbers, min below max, got {labels}")
    except (ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"model card {card_path} is malformed: {exc!r}") from None
    artifact = _read_file(path, MAX_ARTIFACT_BYTES, "model artifact")
    actual = hashlib.sha256(artifact).hexdigest()
    if actual != expected:
        raise ArtifactError(
            f"model artifact {path} has sha256 {actual} but its card says {expected}; "
            "refusing to load an unverified file"
        )
    return card, artifact


def _read_file(path: Path, limit: int, what: str) -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ArtifactError(f"{what} {path} is not a regular file")
        if info.st_size > limit:
            raise ArtifactError(f"{what} {path} has {info.st_size} bytes; at most {limit} are read")
        with path.open("rb") as file:
            return file.read(limit)
    except OSError as exc:
        raise ArtifactError(f"cannot read {what} {path}: {exc.strerror}") from None
