"""The try-it page at ``GET /`` for browsers: one HTML file with the loaded model card filled in.

The page has no external assets: its style and script are inline, and its Content-Security-Policy
allows exactly those two (by hash) and requests to this origin, so a browser refuses anything else.
"""

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

from .jsonio import dump_json

TEMPLATE = Path(__file__).with_name("page.html")
DATA = "{{data}}"


def render(
    card: dict[str, Any], revision: str, error: str | None = None
) -> tuple[str, dict[str, str]]:
    """(body, headers) of the page; ``error`` says why the model is not ready, if it is not."""
    template = TEMPLATE.read_text()
    data = dump_json({"card": card, "revision": revision, "error": error}).decode()
    body = template.replace(DATA, data.replace("<", "\\u003c"))  # no tag can end the data block
    headers = {
        "Content-Security-Policy": policy(template),
        "Cache-Control": "no-cache",  # the page names the revision that served it
        "Vary": "Accept",
    }
    return body, headers


def policy(html: str) -> str:
    """A policy that allows the page's own inline <style> and <script> and nothing external."""
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    script = re.search(r"<script>(.*?)</script>", html, re.S).group(1)
    return (
        f"default-src 'none'; style-src {digest(style)}; script-src {digest(script)}; "
        "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


def digest(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"
