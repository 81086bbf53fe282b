"""Knative's validating webhook, answering as the API server relays it.

It denies a Service that breaks Knative's admission rules (the test-side copies in
``tests/release/manifests/knative_rules/``, with the traffic and revision-name rules of
``knative.traffic.rules``) checked against our cluster's settings, and a template that changes
under the revision name it already has (Knative's ``VerifyNameChange``). Knative's webhook
answers a denial with ``apierrors.NewBadRequest`` and the API server keeps that code, so the
answer is HTTP 400 BadRequest with the message ``admission webhook "..." denied the request:
validation failed: ...`` (422 Invalid is what the API server itself says of a schema error).
"""

import difflib
import json

from tests.release.manifests.knative_manifests import cluster_limits
from tests.release.manifests.knative_rules.limits import ClusterLimits
from tests.release.manifests.knative_rules.service import service_errors

WEBHOOK = "validation.webhook.serving.knative.dev"
NAME_CHANGE = "Saw the following changes without a name change (-old +new)"


class ApiError(Exception):
    """An error the fake API answers with, as a Kubernetes ``Status`` body."""

    def __init__(self, code: int, reason: str, message: str):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


def admit(old: dict, new: dict, limits: ClusterLimits | None = None) -> None:
    """Raise the API server's 400 for a change to a Service that Knative's webhook denies."""
    errors = service_errors(new, limits or cluster_limits()) + name_change_errors(old, new)
    if errors:
        denied = f'admission webhook "{WEBHOOK}" denied the request: validation failed: '
        raise ApiError(400, "BadRequest", denied + "\n".join(errors))


def name_change_errors(old: dict, new: dict) -> list[str]:
    """A template that changes must get a new revision name (a new revision), or Knative says no.

    The details are the changed lines, ``-`` before and ``+`` after, as Knative lists them.
    """
    before, after = old["spec"]["template"], new["spec"]["template"]
    name = (after.get("metadata") or {}).get("name")
    if not name or name != (before.get("metadata") or {}).get("name") or after == before:
        return []
    changes = difflib.unified_diff(_lines(before), _lines(after), lineterm="", n=0)
    details = [line for line in changes if line[:1] in "-+" and line[:3] not in ("---", "+++")]
    return [f"{NAME_CHANGE}: spec.template.metadata.name\n" + "\n".join(details)]


def _lines(template: dict) -> list[str]:
    return json.dumps(template, indent=1, sort_keys=True).splitlines()
