"""Serve the predictor with granian, a production HTTP server for Python: ``python -m function``.

What can stop start-up (bad settings, an altered artifact, an address that cannot be listened
on) is checked first, so the server exits 1 with one sentence instead of a traceback or a
server that never gets ready.
"""

import math
import socket
import sys

from . import shutdown


def main() -> None:
    shutdown.exit_on_signal()  # first: granian's import alone takes ~0.25 s
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, RuntimeModes
    from granian.http import HTTP1Settings

    from .artifact import ArtifactError, read_verified
    from .config import Settings

    try:
        settings = Settings.from_env()
        read_verified(settings.model_path)
        check_can_listen(settings.host, settings.port)
    except (ValueError, ArtifactError) as exc:
        sys.exit(f"house-price: cannot start: {exc}")
    server = Granian(
        "function:create_rsgi_app",
        factory=True,
        address=settings.host,
        port=settings.port,
        # RSGI, not WSGI: the body of a request is read on granian's I/O threads, not on the
        # Python thread (see function/gateway.py), so a slow client holds only its own request.
        interface=Interfaces.RSGI,
        # One process, one Python thread, a single-threaded I/O runtime: Knative scales by adding
        # pods, each sized for one core, and its queue-proxy talks HTTP/1.1 to us.
        workers=1,
        runtime_mode=RuntimeModes.st,
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(header_read_timeout=int(settings.read_timeout * 1000)),
        # What is in flight at SIGTERM gets READ_TIMEOUT_SECONDS to arrive and 5 s to be
        # answered; then the worker is killed, so that shutdown always ends.
        workers_kill_timeout=math.ceil(settings.read_timeout) + 5,
    )
    server.on_startup(shutdown.workers_stop_cleanly)
    shutdown.serve(server)


def check_can_listen(host: str, port: int) -> None:
    """Bind once, without SO_REUSEPORT, so that a port another server listens on is an error.

    granian binds with SO_REUSEPORT and would silently share the port with another granian, or
    fail with a Rust panic on an address that is not on this machine.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ValueError(f"cannot listen on {host} port {port}: {exc.strerror}") from None


if __name__ == "__main__":
    main()
