"""Stand-ins for the tools the cluster scripts call: kubectl, eksctl, kn, helm and aws record
their arguments (and what they read from stdin for ``-f -``), so a test checks what a script asks
for, never Kubernetes or AWS themselves."""

import shutil
import subprocess

import pytest
import yaml

from tests.release.manifests.knative_manifests import CLUSTER

ACCOUNT, REGION = "123456789012", "eu-west-1"
# What the walk-through exports before the scripts run (cluster/README.md).
WALKTHROUGH_ENV = {"AWS_ACCOUNT_ID": ACCOUNT, "AWS_DEFAULT_REGION": REGION}
ALL_TOOLS = ("kubectl", "eksctl", "kn", "helm", "aws")
CAT = shutil.which("cat")


class Tools:
    """A PATH holding dirname, envsubst and the recording stand-ins added to it."""

    def __init__(self, tmp_path):
        self.bin = tmp_path / "bin"
        self.log, self.stdin = tmp_path / "calls.log", tmp_path / "applied.yaml"
        self.bin.mkdir()
        for real in ("dirname", "envsubst"):
            (self.bin / real).symlink_to(shutil.which(real))

    def add(self, name: str, body: str = "") -> None:
        """A stand-in that records its call, keeps what ``-f -`` hands it, then runs ``body``."""
        stub = self.bin / name
        stub.write_text(
            f'#!/bin/bash\necho "{name} $*" >> "{self.log}"\n'
            f'if [[ " $* " == *" -f - "* ]]; then\n'
            f'  {CAT} >> "{self.stdin}"; echo "---" >> "{self.stdin}"\nfi\n'
            f"{body}\n"
        )
        stub.chmod(0o755)

    def add_all(self, **bodies: str) -> "Tools":
        for name in ALL_TOOLS:
            self.add(name, bodies.get(name, ""))
        return self

    def run(self, script: str, **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
        """Run ``cluster/<script>`` with the walk-through's environment (``env`` on top)."""
        result = subprocess.run(
            ["/bin/bash", str(CLUSTER / script)],
            capture_output=True,
            text=True,
            env={"PATH": str(self.bin), **WALKTHROUGH_ENV, **env},
            timeout=60,
        )
        calls = self.log.read_text().splitlines() if self.log.exists() else []
        return result, calls

    def applied(self) -> list[dict]:
        """Every object the stand-ins were handed on stdin, in order (dry runs included)."""
        if not self.stdin.exists():
            return []
        return [d for d in yaml.safe_load_all(self.stdin.read_text()) if d]


@pytest.fixture
def tools(tmp_path) -> Tools:
    return Tools(tmp_path)


def position(calls: list[str], fragment: str) -> int:
    return next(i for i, call in enumerate(calls) if fragment in call)


def in_order(calls: list[str], fragments: list[str]) -> bool:
    """Whether each fragment is first seen after the one before it."""
    found = [position(calls, fragment) for fragment in fragments]
    return found == sorted(found)
