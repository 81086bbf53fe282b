"""Read a request body before the app sees it: within a deadline, under a size limit, decoded.

The bytes arrive on granian's I/O threads while the Python thread serves other requests; the
deadline and the limit bound what one client can cost, whatever it sends or fails to send.
"""

import asyncio
import zlib
from asyncio import current_task
from collections.abc import Awaitable, Mapping
from time import monotonic

from granian.rsgi import HTTPProtocol

from .errors import InvalidInput, PayloadTooLarge, RequestTimeout, UnsupportedMediaType

# zlib's window bits per Content-Encoding; "deflate" in HTTP is the zlib format (RFC 9110 8.4.1.2)
WINDOW_BITS = {"gzip": 31, "x-gzip": 31, "deflate": 15}


class Deadline:
    """One deadline for every body being read, kept by one timer that cuts the reads that are
    due, a tenth of the deadline apart: a read is cut between ``seconds`` and 1.1 times that.

    ``asyncio.timeout`` arms and cancels a timer of the event loop for every request, which
    cost ~15 us a request here (a tenth of a single-row prediction); this costs ~1 us.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._due: dict[asyncio.Task, float | None] = {}  # reads in progress; None: cut
        self._sweeping = False

    async def within(self, read: Awaitable[bytes]) -> bytes:
        """``await read``; ``TimeoutError`` once it has taken ``seconds``."""
        task = current_task()
        self._due[task] = monotonic() + self.seconds
        if not self._sweeping:
            self._sweeping = True
            loop = task.get_loop()
            loop.call_later(self.seconds / 10, self._sweep, loop)
        try:
            return await read
        except asyncio.CancelledError:
            if self._due[task] is not None:  # not cut here: the server is stopping
                raise
            task.uncancel()
            raise TimeoutError from None
        finally:
            del self._due[task]

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        now = monotonic()
        for task, due in self._due.items():
            if due is not None and due <= now:
                self._due[task] = None
                task.cancel()
        self._sweeping = bool(self._due)
        if self._sweeping:
            loop.call_later(self.seconds / 10, self._sweep, loop)


async def read_body(
    proto: HTTPProtocol, headers: Mapping[str, str], max_bytes: int, deadline: Deadline
) -> bytes:
    """The body of an RSGI request, decoded; raise the client's error if it cannot be had."""
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding != "identity" and encoding not in WINDOW_BITS:
        raise UnsupportedMediaType(
            f"Content-Encoding {encoding!r} is not supported; send gzip, deflate or identity"
        )
    chunked = "transfer-encoding" in headers  # which then frames the body (RFC 9112 6.3)
    length = None if chunked else headers.get("content-length")
    if length is not None and int(length) > max_bytes:  # the HTTP layer checked it is a number
        raise _too_large(max_bytes)
    if not chunked and length is None:
        return b""
    try:
        raw = await deadline.within(_chunks_up_to(proto, max_bytes) if chunked else proto())
    except TimeoutError:
        raise RequestTimeout(
            f"request body not received within {deadline.seconds:g} s (READ_TIMEOUT_SECONDS)"
        ) from None
    return raw if encoding == "identity" or not raw else _decoded(raw, encoding, max_bytes)


async def _chunks_up_to(proto: HTTPProtocol, max_bytes: int) -> bytes:
    """A chunked body, refused as soon as it grows past the limit."""
    chunks, size = [], 0
    async for chunk in proto:
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _decoded(raw: bytes, encoding: str, max_bytes: int) -> bytes:
    """Inflate at most one byte past the limit, so that a zip bomb costs no more memory."""
    decoder = zlib.decompressobj(WINDOW_BITS[encoding])
    try:
        data = decoder.decompress(raw, max_bytes + 1)
    except zlib.error as exc:
        raise InvalidInput(f"malformed {encoding} body: {exc}") from None
    if len(data) > max_bytes:
        raise _too_large(max_bytes, "decoded ")
    if not decoder.eof or decoder.unused_data:
        raise InvalidInput(f"malformed {encoding} body: truncated or followed by extra bytes")
    return data


def _too_large(max_bytes: int, what: str = "") -> PayloadTooLarge:
    return PayloadTooLarge(f"{what}request body over {max_bytes} bytes (MAX_BODY_BYTES)")
