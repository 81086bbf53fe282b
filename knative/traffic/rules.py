"""Knative's admission rules for ``spec.traffic`` and revision names, in Knative's words.

The one copy of these rules: the rollout tool checks every split it plans against them, the
fake webhook of the tests denies with them, and the manifest tests check the phases with them.
"""

import re
from collections.abc import Mapping

DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")


def revision_name_errors(field: str, revision: str, service_name: str) -> list[str]:
    """A revision's name is a DNS-1035 label that starts with its service's name."""
    if not DNS1035_LABEL.fullmatch(revision):
        return [f"{field} {revision!r}: not DNS-1035"]
    if not revision.startswith(f"{service_name}-"):
        return [f'{field} {revision!r}: must have prefix "{service_name}-"']
    return []


def traffic_errors(traffic: list[Mapping], service_name: str | None) -> list[str]:
    """Every broken rule in a ``spec.traffic`` list (messages start with ``[index]``).

    Without ``service_name`` the rules that need it (revision prefix, tag host length) are skipped.
    """
    errors, tags = [], {}
    for index, target in enumerate(traffic):
        at = f"[{index}]"
        percent = target.get("percent", 0)
        if not isinstance(percent, int) or not 0 <= percent <= 100:
            errors.append(f"{at}.percent: {percent!r} is not a whole number in 0..100")
        revision, latest = target.get("revisionName"), target.get("latestRevision")
        if latest is not None and bool(revision) == latest:
            errors.append(f"{at}.latestRevision: {latest} contradicts revisionName {revision!r}")
        if revision and service_name:
            errors += revision_name_errors(f"{at}.revisionName", revision, service_name)
        errors += [
            f"{at}.{key}: not allowed here" for key in ("configurationName", "url") if key in target
        ]
        tag = target.get("tag")
        if tag is None:
            continue
        host = f"{tag}-{service_name}" if service_name else tag
        if not DNS1035_LABEL.fullmatch(tag) or len(host) > 63:
            errors.append(f"{at}.tag {tag!r}: {host} must be a DNS-1035 label")
        if tag in tags:
            errors.append(f'{at}.tag: Multiple definitions for "{tag}", first at [{tags[tag]}]')
        tags.setdefault(tag, index)
    total = sum(t.get("percent", 0) for t in traffic if isinstance(t.get("percent", 0), int))
    return errors + ([] if total == 100 else [f": Traffic targets sum to {total}, want 100"])
