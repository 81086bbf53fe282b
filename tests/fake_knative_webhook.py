"""Knative's validating webhook, for the rules the rollout tool could break."""


class ApiError(Exception):
    """An error the fake API answers with, as a Kubernetes ``Status`` body."""

    def __init__(self, code: int, reason: str, message: str):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


def admit(old: dict, new: dict) -> None:
    """Raise a 422 for a change to a Service that Knative's webhook would deny."""
    name, spec = new["metadata"]["name"], new["spec"]
    revision = spec["template"]["metadata"]["name"]
    if not revision.startswith(f"{name}-"):
        _deny(f'"{revision}" must have prefix "{name}-": spec.template.metadata.name')
    old_template = old["spec"]["template"]
    if revision == old_template["metadata"]["name"] and spec["template"] != old_template:
        _deny("Saw the following changes without a name change: spec.template")
    traffic = spec.get("traffic") or []
    total = sum(target.get("percent") or 0 for target in traffic)
    if traffic and total != 100:
        _deny(f"Traffic targets sum to {total}, want 100: spec.traffic")
    tags = [target["tag"] for target in traffic if target.get("tag")]
    for tag in {tag for tag in tags if tags.count(tag) > 1}:
        _deny(f'Multiple definitions for "{tag}": spec.traffic[].tag')
    for target in traffic:
        if target.get("latestRevision") and target.get("revisionName"):
            _deny("may not set revisionName when latestRevision is true: spec.traffic")


def _deny(message: str):
    raise ApiError(
        422,
        "Invalid",
        f'admission webhook "validation.webhook.serving.knative.dev" denied: {message}',
    )
