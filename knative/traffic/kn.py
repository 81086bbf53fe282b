"""Render a traffic change as the ``kn service update`` command that does the same.

kn applies ``--untag`` first, then ``--tag``, then ``--traffic`` (which resets every other
percent to 0), and drops targets left with 0 % and no tag.
"""

import shlex

from knative.traffic.plan import Traffic


def kn_update(
    service: str,
    namespace: str,
    before: list[dict] | None,
    after: Traffic,
    extra: tuple[str, ...] = (),
) -> str:
    """The kn command turning the ``spec.traffic`` list ``before`` into ``after``."""
    pinned = {t["tag"]: t.get("revisionName") for t in before or [] if t.get("tag")}
    args = ["kn", "service", "update", service, "--namespace", namespace, *extra]
    for tag, revision in pinned.items():
        if after.tags.get(tag) != revision:
            args += ["--untag", tag]
    for tag, revision in after.tags.items():
        if pinned.get(tag) != revision:
            args += ["--tag", f"{revision}={tag}"]
    for revision, percent in after.percents.items():
        if percent:
            args += ["--traffic", f"{revision}={percent}"]
    return shlex.join(args)
