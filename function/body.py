"""Read a request body before the app sees it: within a deadline, under a size limit, decoded.

The bytes arrive on granian's I/O threads while the Python thread serves other requests; the
deadline and the limit bound what one client can cost, whatever it sends or fails to send.
"""

import asyncio
import zlib
from collections.abc import Mapping

from granian.rsgi import HTTPProtocol

from .errors import InvalidInput, PayloadTooLarge, RequestTimeout, UnsupportedMediaType

# zlib's window bits per Content-Encoding; "deflate" in HTTP is the zlib format (RFC 9110 8.4.1.2)
WINDOW_BITS = {"gzip": 31, "x-gzip": 31, "deflate": 15}


async def read_body(
    proto: HTTPProtocol, headers: Mapping[str, str], max_bytes: int, timeout: float
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
    try:
        async with asyncio.timeout(timeout):
            if chunked:
                raw = await _chunks_up_to(proto, max_bytes)
            elif length is not None:
                raw = await proto()
            else:
                return b""
    except TimeoutError:
        raise RequestTimeout(
            f"request body not received within {timeout:g} s (READ_TIMEOUT_SECONDS)"
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
