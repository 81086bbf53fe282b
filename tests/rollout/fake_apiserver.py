"""What the Kubernetes API server does to any object: JSON merge patch, and the ``Status`` body
of a failed request. Used by the fake Knative API."""

import copy

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
