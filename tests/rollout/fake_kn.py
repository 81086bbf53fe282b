"""What ``kn service update`` does to a traffic block, per kn's documented precedence.

kn applies ``--untag`` first, then ``--tag`` (tagging the revision's untagged target, else adding
a 0 % target), then, when ``--traffic`` is given, resets every percent to 0 and sets the named
ones (by tag first, then by revision, else adding a target); last it drops targets left with 0 %
and no tag. Used to check that the commands the rollout tool prints do what the tool does.
"""

import argparse
import copy
import shlex


def kn_applied(command: str, targets: list[dict] | None) -> tuple[list[dict], dict]:
    """The traffic block after ``command``, and the other flags it carried."""
    words = shlex.split(command)
    assert words[:3] == ["kn", "service", "update"], command
    parser = argparse.ArgumentParser()
    parser.add_argument("service")
    for flag in ("--untag", "--tag", "--traffic", "--env"):
        parser.add_argument(flag, action="append", default=[])
    for flag in ("--namespace", "--image", "--revision-name", "--scale-init"):
        parser.add_argument(flag)
    flags = parser.parse_args(words[3:])
    traffic = copy.deepcopy(targets or [{"latestRevision": True, "percent": 100}])
    for tag in flags.untag:
        assert _first(traffic, "tag", tag), f"kn: tag {tag} not present"
        _first(traffic, "tag", tag).pop("tag")
    for pair in flags.tag:
        revision, tag = pair.split("=")
        holder = _first(traffic, "tag", tag)
        if holder and holder.get("revisionName") == revision:
            continue
        assert holder is None, f"kn: refusing to overwrite tag {tag}"
        first = _first(traffic, "revisionName", revision)
        if first and not first.get("tag"):
            first["tag"] = tag
        else:
            traffic.append({"revisionName": revision, "percent": 0, "tag": tag})
    if flags.traffic:
        for target in traffic:
            target["percent"] = 0
        for pair in flags.traffic:
            ref, percent = pair.split("=")
            found = _first(traffic, "tag", ref) or _first(traffic, "revisionName", ref)
            if found is None:
                found = {"revisionName": ref}
                traffic.append(found)
            found["percent"] = int(percent)
    kept = [t for t in traffic if t.get("tag") or t.get("percent")]
    return kept, vars(flags)


def _first(targets: list[dict], key: str, value: str) -> dict | None:
    return next((t for t in targets if t.get(key) == value), None)
