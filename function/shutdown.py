"""SIGTERM (or SIGINT) ends the server at any moment with exit 0, around two races in granian.

granian 2.8's supervisor forks its worker with the supervisor's own Python signal handler still
installed; the worker replaces it only once the app is loaded (~0.3 s). A SIGTERM the supervisor
forwards in that window lands in the inherited handler, which merely flags the worker's copy of
the supervisor: the worker serves on, and the supervisor, already in shutdown, waits for it
forever and ignores further signals (upstream: ``granian/server/mp.py`` forks the worker after
``set_main_signals`` in ``granian/server/common.py``, and the worker calls ``set_loop_signals``
only after ``callback_loader()``). And when a signal reaches the whole process group (Ctrl-C),
a worker that exits before the supervisor asked it to is taken for a crash: "Unexpected exit
from worker-1", exit 1. Before granian installs any handler, SIGTERM would end the process with
status 143 rather than exit 0 (a signal that arrives before Python runs this module still does).
"""

import ctypes
import os
import signal
import sys
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # granian is imported only once the signals are handled (__main__.py)
    from granian import Granian

SIGNALS = (signal.SIGTERM, signal.SIGINT)
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def exit_on_signal() -> None:
    """Until granian takes over, a signal ends start-up at once: nothing is in flight yet.

    ``os._exit``, not ``sys.exit``: a SystemExit raised inside, say, an import lock's weakref
    callback is printed and ignored, and start-up would go on.
    """
    for signum in SIGNALS:
        signal.signal(signum, _exit)


def _exit(signum: int, frame: FrameType | None) -> None:
    os._exit(0)


def serve(server: "Granian") -> None:
    """``server.serve()``, where a worker that ends on the very signal that stops the server is
    no crash: a signal to the process group can reach a worker while it is being forked, before
    it has left the group, and it may then exit before the supervisor asks it to."""
    try:
        server.serve()
    except SystemExit as exc:
        if exc.code == 1 and server.interrupt_signal:
            sys.exit(0)
        raise


def workers_stop_cleanly() -> None:
    """A granian start-up hook: it runs in the supervisor before the worker is forked.

    The signals stay blocked across the fork, so that one sent to the new worker before it has
    a handler waits for the handler (CPython drops signals caught between fork and its re-init).
    """
    supervisor = os.getpid()  # 1 in a container: "orphaned" cannot mean "parent is 1"
    os.register_at_fork(
        before=_block, after_in_parent=_unblock, after_in_child=lambda: _in_new_worker(supervisor)
    )


def _block() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)


def _unblock() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)


def _in_new_worker(supervisor: int) -> None:
    # Its own process group: a signal to the group reaches the supervisor alone, which then
    # stops the worker itself. Out of the group, a worker would outlive a supervisor killed with
    # SIGKILL: Linux sends it SIGTERM then (PR_SET_PDEATHSIG). Until granian installs the
    # worker's handler, a signal ends the worker at once (it has not accepted a request yet).
    os.setpgid(0, 0)
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != supervisor:  # it died before that
        os._exit(0)
    for signum in SIGNALS:
        signal.signal(signum, _exit)
    _unblock()
