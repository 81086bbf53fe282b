"""``status``: the Service's revisions, the traffic each gets, their tags, URLs and readiness."""

import json

from knative.kube.service import KnativeService
from knative.kube.waiting import is_ready, not_ready_reason
from knative.record import ANNOTATION
from knative.text import aligned


def report(service: KnativeService) -> dict:
    """What Knative routes now (``status.traffic``), per revision of the Service."""
    found = service.get()
    status = found.get("status") or {}
    rows = {
        rev["metadata"]["name"]: {
            "name": rev["metadata"]["name"],
            "percent": 0,
            "tags": [],
            "urls": [],
            "ready": is_ready(rev),
            "reason": None if is_ready(rev) else not_ready_reason(rev),
        }
        for rev in service.revisions()
    }
    for target in status.get("traffic") or []:
        row = rows.get(target.get("revisionName"))
        if row is None:
            continue  # routed to a revision that is gone; Knative reports it on the Service
        row["percent"] += target.get("percent") or 0
        row["tags"] += [target["tag"]] if target.get("tag") else []
        row["urls"] += [target["url"]] if target.get("url") else []
    return {
        "service": service.name,
        "namespace": service.namespace,
        "url": status.get("url"),
        "ready": is_ready(found),
        "reason": None if is_ready(found) else not_ready_reason(found),
        "revisions": list(rows.values()),
        "last_rollout": _last_rollout(found),
    }


def _last_rollout(service: dict) -> dict | None:
    """The verdict the last gated run left on the Service (``knative/record.py``), if any."""
    text = (service["metadata"].get("annotations") or {}).get(ANNOTATION)
    try:
        return json.loads(text) if text else None
    except ValueError:
        return {"verdict": "unreadable", "reason": f"annotation {ANNOTATION} is not JSON"}


def render(found: dict, output: str) -> str:
    """``found`` (from ``report``) as JSON or as a table an operator reads."""
    if output == "json":
        return json.dumps(found, indent=2)
    state = "ready" if found["ready"] else f"NOT ready: {found['reason']}"
    lines = [f"service {found['service']} in namespace {found['namespace']}: {state}"]
    lines.append(f"URL {found['url'] or '(none yet)'}")
    header = ("REVISION", "TRAFFIC", "TAGS", "READY", "URLS")
    table = [header] + [
        (
            row["name"],
            f"{row['percent']} %",
            ",".join(row["tags"]) or "-",
            "yes" if row["ready"] else f"no: {row['reason']}",
            " ".join(row["urls"]) or "-",
        )
        for row in found["revisions"]
    ]
    return "\n".join([*lines, *aligned(table), _verdict_line(found["last_rollout"])])


def _verdict_line(last: dict | None) -> str:
    if not last:
        return "last gated rollout: none recorded"
    line = (
        f"last gated rollout: {last.get('verdict')} ({last.get('command')} "
        f"{last.get('candidate')}, finished {last.get('finished')})"
    )
    return line + (f": {last['reason']}" if last.get("reason") else "")
