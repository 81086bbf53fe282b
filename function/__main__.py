"""Serve the predictor with granian, a production HTTP server for Python: ``python -m function``.

What can stop start-up (bad settings, a model that can never load, an address that cannot be
listened on) is checked first, so the server exits 1 with one line instead of a traceback or a
server that never gets ready.

Knative reports that line at once as the revision's reason: it gives the user container
``terminationMessagePolicy: FallbackToLogsOnError`` (knative/serving v1.23
``pkg/reconciler/revision/resources/deploy.go:278``), and while no pod is available its revision
reconciler marks ``ContainerHealthy=False`` with reason ``ExitCode1`` and message "Container failed
with: " plus the terminated container's message (``pkg/reconciler/revision/reconcile_resources.go``
lines 116-124). The kubelet takes that message from the termination-message file when it is not
empty, else from the log's tail; the line is written to both, so that nothing logged before it
(or an ONNX Runtime warning) can become the reason.
"""

import contextlib
import math
import os
import resource
import socket
import sys
from pathlib import Path

from . import shutdown

TERMINATION_MESSAGE_PATH = "/dev/termination-log"  # Kubernetes's terminationMessagePath default
# The kernel's queue of connections made but not yet accepted (capped by net.core.somaxconn, 4096
# by default since Linux 5.4). granian accepts on its own I/O thread, never behind Python, so
# this queue only absorbs a burst of connects between two accepts, or holds the connections
# beyond MAX_CONNECTIONS until one closes: granian's default is enough for both.
BACKLOG = 1024
OTHER_FILES = 64  # files the worker opens besides connections (the model, pipes, epoll, ...)


def main() -> None:
    shutdown.exit_on_signal()  # first: granian's import alone takes ~0.25 s
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, RuntimeModes
    from granian.http import HTTP1Settings

    from .artifact import ArtifactError
    from .config import Settings
    from .model import open_verified

    try:
        settings = Settings.from_env()
        # The whole check, ONNX Runtime included, before granian: a model that can never load
        # must stop the container, not leave it running unready until Knative's progress deadline.
        # (The modules it imports are the worker's anyway: granian forks it from this process.)
        open_verified(settings.model_path)
        check_can_listen(settings.host, settings.port)
        allow_open_files(settings.max_connections + OTHER_FILES)
    except (ValueError, ArtifactError) as exc:
        stop(f"house-price: cannot start: {exc}")
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
        backlog=BACKLOG,
        # granian's backpressure caps the connections a worker holds, idle ones included, not
        # the requests in flight (granian's README, "Backpressure"; src/workers.rs takes one
        # semaphore permit per accepted connection and drops it when the connection ends). Its
        # default, backlog / workers, is 1,024: with that many idle keep-alive connections
        # held (a client's pool, a load test's users), a new one waited in the backlog until
        # an idle one timed out (READ_TIMEOUT_SECONDS). Python runs one request at a time
        # either way, so this limits only memory: ~17 kB per idle connection (measured), about
        # 70 MB for the default 4,096, within the pod's 512 Mi beside the ~100 MB server.
        backpressure=settings.max_connections,
    )
    server.on_startup(shutdown.workers_stop_cleanly)
    shutdown.serve(server)


def stop(reason: str) -> None:
    """Exit 1 with ``reason`` as one line on stderr and in the termination-message file."""
    line = " ".join(reason.split())  # an ONNX Runtime message may span lines
    path = Path(os.environ.get("TERMINATION_MESSAGE_PATH", TERMINATION_MESSAGE_PATH))
    if path.is_file():  # Kubernetes creates it in every container; elsewhere it is not there
        with contextlib.suppress(OSError):  # not writable: the log's tail still has the line
            path.write_text(line + "\n")
    sys.exit(line)


def allow_open_files(needed: int) -> None:
    """Raise the soft open-file limit to ``needed`` if it is lower (a container's soft limit is
    often 1,024, under a far higher hard one): past the soft limit, accept fails with EMFILE and
    granian retries at once, spinning a core (1.2 s of CPU in 2 s, measured) while new
    connections wait."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise ValueError(
                f"MAX_CONNECTIONS needs {needed} open files, but at most {hard} are allowed here "
                "(the hard RLIMIT_NOFILE): lower MAX_CONNECTIONS or raise the limit"
            )
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


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
