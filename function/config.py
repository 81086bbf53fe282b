"""Settings from environment variables, read once at start-up (each documented in README.md)."""

import ipaddress
import math
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

N = TypeVar("N", int, float)
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "model_data" / "model-v1.onnx"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    model_path: Path = DEFAULT_MODEL_PATH
    revision: str = "local"
    max_batch_rows: int = 10_000
    max_body_bytes: int = 4 * 1024 * 1024
    read_timeout: float = 10.0
    max_connections: int = 4096  # granian's backpressure: see function/__main__.py
    pod_name: str | None = None  # named in X-Pod on every response; off unless EXPOSE_POD_NAME

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """Settings from ``env`` (default ``os.environ``); a malformed value stops start-up."""
        env = os.environ if env is None else env
        return cls(
            host=_ip_address(env, "HOST", cls.host),
            port=_number(env, "PORT", cls.port, int, most=65535),
            model_path=Path(env.get("MODEL_PATH", cls.model_path)),
            revision=env.get("K_REVISION", cls.revision),
            max_batch_rows=_number(env, "MAX_BATCH_ROWS", cls.max_batch_rows, int),
            max_body_bytes=_number(env, "MAX_BODY_BYTES", cls.max_body_bytes, int),
            read_timeout=_number(env, "READ_TIMEOUT_SECONDS", cls.read_timeout, float, most=3600),
            max_connections=_number(env, "MAX_CONNECTIONS", cls.max_connections, int),
            pod_name=_pod_name(env),
        )


def _ip_address(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, default)
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        raise ValueError(f"{name} must be an IP address such as 0.0.0.0, got {raw!r}") from None


def _pod_name(env: Mapping[str, str]) -> str | None:
    """The pod's name (Kubernetes makes it the hostname) if the operator chose to reveal it."""
    raw = env.get("EXPOSE_POD_NAME", "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return None
    if raw not in ("1", "true", "yes", "on"):
        raise ValueError(f"EXPOSE_POD_NAME must be true or false, got {env['EXPOSE_POD_NAME']!r}")
    return env.get("HOSTNAME") or socket.gethostname()


def _number(
    env: Mapping[str, str], name: str, default: N, kind: type[N], most: float = math.inf
) -> N:
    raw = env.get(name)
    if raw is None:
        return default
    what = "a whole number" if kind is int else "a number"
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be {what}, got {raw!r}") from None
    if not 0 < value <= most:
        bound = "" if most == math.inf else f" and at most {most}"
        raise ValueError(f"{name} must be positive{bound}, got {raw}")
    return value
