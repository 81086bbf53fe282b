"""HTTP/1.1 by hand over a socket, for what ordinary clients never send: bodies that stall,
trickle or stop half-way, and headers that never end."""

import http.client
import socket
from urllib.parse import urlsplit


def connect(url, timeout=10):
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=timeout)


def head(method, path, **headers):
    """A request head; header names are given with underscores (Content_Length=...)."""
    lines = [f"{method} {path} HTTP/1.1", "Host: test"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_reply(conn):
    """The reply as (status, headers, body)."""
    response = http.client.HTTPResponse(conn)
    response.begin()
    return response.status, response.headers, response.read()


def closed_by_server(conn, within=5):
    """Whether the server closes the connection within ``within`` seconds."""
    conn.settimeout(within)
    try:
        return conn.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
