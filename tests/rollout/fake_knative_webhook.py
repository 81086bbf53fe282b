"""Knative's validating webhook, for the rules the rollout tool could break.

The traffic and revision-name rules are the rollout tool's own (``knative.traffic_rules``): one
copy, which the tool checks its plans with and this fake denies with.
"""

from knative.traffic_rules import revision_name_errors, traffic_errors


class ApiError(Exception):
    """An error the fake API answers with, as a Kubernetes ``Status`` body."""

    def __init__(self, code: int, reason: str, message: str):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


def admit(old: dict, new: dict) -> None:
    """Raise a 422 for a change to a Service that Knative's webhook would deny."""
    name, spec = new["metadata"]["name"], new["spec"]
    field = "spec.template.metadata.name"
    errors = revision_name_errors(field, spec["template"]["metadata"]["name"], name)
    old_template = old["spec"]["template"]
    renamed = spec["template"]["metadata"]["name"] != old_template["metadata"]["name"]
    if not renamed and spec["template"] != old_template:
        errors.append("Saw the following changes without a name change: spec.template")
    if spec.get("traffic"):
        errors += [f"spec.traffic{e}" for e in traffic_errors(spec["traffic"], name)]
    if errors:
        raise ApiError(
            422,
            "Invalid",
            'admission webhook "validation.webhook.serving.knative.dev" denied: '
            + "; ".join(errors),
        )
