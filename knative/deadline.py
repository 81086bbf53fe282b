"""A deadline on a whole HTTP call, for the Kubernetes client and for ``requests`` alike.

urllib3's and requests' timeouts bound each socket operation, not the call: a peer that answers
a byte at a time (a congested proxy) resets them with every byte, and ``Timeout(total=...)``
does not bound reading the body either. So every call runs under ``deadline(seconds)``: the
connections the calling thread opens or uses in the block are registered (``track`` makes a
PoolManager's connections do so), and a timer shuts their sockets down when the time is up.
The blocked read then fails at once, and the block raises ``DeadlineExceeded``.
"""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3 import PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import TimeoutError as NoAnswerInTime
from urllib3.poolmanager import pool_classes_by_scheme

_in_use = threading.local()  # ``connections``: the list the current deadline cuts, if any


class DeadlineExceeded(NoAnswerInTime):
    """No whole answer within the deadline: the connection was cut."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no answer within {seconds:g} s")  # as a read timeout says
        self.seconds = seconds


class _Registered:
    """A connection that puts itself on the current deadline's list when it connects or sends."""

    def _register(self) -> None:
        connections = getattr(_in_use, "connections", None)
        if connections is not None and self not in connections:
            connections.append(self)

    def connect(self) -> None:
        self._register()
        super().connect()

    def request(self, *args: Any, **kwargs: Any) -> None:
        self._register()
        super().request(*args, **kwargs)


class _HTTPConnection(_Registered, HTTPConnection):
    pass


class _HTTPSConnection(_Registered, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


def track(manager: PoolManager) -> PoolManager:
    """Make ``manager``'s connections known to ``deadline`` (a SOCKS proxy's, with pools of its
    own, are left as they are: its calls are bounded per read only)."""
    if manager.pool_classes_by_scheme == pool_classes_by_scheme:
        manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
    return manager


class TrackedAdapter(HTTPAdapter):
    """A ``requests`` adapter whose connections, direct or through a proxy, are tracked."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        track(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> PoolManager:
        return track(super().proxy_manager_for(proxy, **kwargs))


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Cut the block's connections after ``seconds``; then the block raises DeadlineExceeded."""
    connections: list = []
    outer, _in_use.connections = getattr(_in_use, "connections", None), connections
    cut = threading.Event()

    def cut_them() -> None:
        cut.set()
        for connection in list(connections):
            if connection.sock is not None:
                with suppress(OSError):
                    connection.sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(seconds, cut_them)
    timer.daemon = True
    timer.start()
    try:
        yield
    except Exception:
        if cut.is_set():
            raise DeadlineExceeded(seconds) from None
        raise
    finally:
        timer.cancel()
        _in_use.connections = outer


def session() -> requests.Session:
    """A ``requests`` session whose calls ``deadline`` can cut."""
    tracked = requests.Session()
    for prefix in ("http://", "https://"):
        tracked.mount(prefix, TrackedAdapter())
    return tracked


NO_ANSWER = (requests.RequestException, DeadlineExceeded)  # what ``within`` raises for no answer


def within(
    http: requests.Session, method: str, url: str, seconds: float, **kwargs: object
) -> requests.Response:
    """``http.request(method, url, ...)`` whose whole answer comes within ``seconds``; else one of
    ``NO_ANSWER`` (``no_answer`` says which)."""
    with deadline(seconds):
        return http.request(method, url, timeout=seconds, **kwargs)


def no_answer(exc: Exception) -> str:
    """Why a ``within`` call got no answer, in a few words."""
    return str(exc) if isinstance(exc, DeadlineExceeded) else type(exc).__name__
