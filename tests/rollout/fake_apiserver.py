"""What the Kubernetes API server does to any object: JSON merge patch, ``managedFields``, and
the ``Status`` body of a failed request. Used by the fake Knative API."""

import copy
from datetime import UTC, datetime

from tests.rollout.fake_knative_webhook import ApiError


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch: objects merge, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def managed_fields(entries: list[dict], manager: str, spec: dict) -> list[dict]:
    """``managedFields`` after ``manager`` set the top-level ``spec`` fields in ``spec``."""
    written = {f"f:{field}": {} for field in spec}
    kept, mine = [], {}
    for entry in entries:
        owned = entry["fieldsV1"].get("f:spec", {})
        if entry["manager"] == manager:
            mine = owned
            continue
        owned = {field: value for field, value in owned.items() if field not in written}
        if owned:
            kept.append(entry | {"fieldsV1": {"f:spec": owned}})
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    entry = {"manager": manager, "operation": "Update", "apiVersion": "serving.knative.dev/v1"}
    entry |= {"time": now, "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": mine | written}}
    return [*kept, entry]


def status_of(exc: ApiError) -> dict:
    """The body of a failed request, as the Kubernetes API server writes it."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": exc.message,
        "reason": exc.reason,
        "code": exc.code,
    }
