"""Settings from environment variables, read once at start-up (each documented in README.md)."""

import os
import socket
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "model_data" / "model-v1.onnx"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    model_path: Path = DEFAULT_MODEL_PATH
    revision: str = "local"
    max_batch_rows: int = 10_000
    max_body_bytes: int = 4 * 1024 * 1024
    pod_name: str | None = None  # named in X-Pod on every response; off unless EXPOSE_POD_NAME

    @classmethod
    def from_env(cls, env=None):
        """Settings from ``env`` (default ``os.environ``); a malformed value stops start-up."""
        env = os.environ if env is None else env
        return cls(
            host=env.get("HOST", cls.host),
            port=_integer(env, "PORT", cls.port),
            model_path=Path(env.get("MODEL_PATH", cls.model_path)),
            revision=env.get("K_REVISION", cls.revision),
            max_batch_rows=_integer(env, "MAX_BATCH_ROWS", cls.max_batch_rows),
            max_body_bytes=_integer(env, "MAX_BODY_BYTES", cls.max_body_bytes),
            pod_name=_pod_name(env),
        )


def _pod_name(env):
    """The pod's name (Kubernetes makes it the hostname) if the operator chose to reveal it."""
    raw = env.get("EXPOSE_POD_NAME", "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return None
    if raw not in ("1", "true", "yes", "on"):
        raise ValueError(f"EXPOSE_POD_NAME must be true or false, got {env['EXPOSE_POD_NAME']!r}")
    return env.get("HOSTNAME") or socket.gethostname()


def _integer(env, name, default):
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value
