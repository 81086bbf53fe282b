"""Serve the predictor with granian, a production WSGI server: ``python -m function``.

The model artifact is checked against its card before the server starts, so a missing or
altered artifact stops start-up with a clear message instead of a server that never gets ready.
"""

import sys

from granian import Granian
from granian.constants import HTTPModes, Interfaces, RuntimeModes

from .artifact import ArtifactError, read_verified
from .config import Settings


def main():
    try:
        settings = Settings.from_env()
        read_verified(settings.model_path)
    except (ValueError, ArtifactError) as exc:
        sys.exit(f"house-price: cannot start: {exc}")
    Granian(
        "function:create_app",
        factory=True,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.WSGI,
        # One process, one Python thread, a single-threaded I/O runtime: Knative scales by adding
        # pods, each sized for one core, and its queue-proxy talks HTTP/1.1 to us. 32 Python
        # threads measured ~15 % more req/s but p99 7.5 ms instead of 4.2 ms at 8 connections.
        workers=1,
        blocking_threads=1,
        runtime_mode=RuntimeModes.st,
        http=HTTPModes.http1,
    ).serve()


if __name__ == "__main__":
    main()
