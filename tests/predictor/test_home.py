"""GET / for people (the try-it page) and for API clients (KServe's liveness answer)."""

import base64
import hashlib
import json
import re

import pytest

from function import create_app, page
from tests.support.repo import MODEL_DATA

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # Chromium's


def page_data(body: str) -> dict:
    found = re.search(r'<script type="application/json" id="data">(.*?)</script>', body, re.S)
    return json.loads(found.group(1))


def test_a_browser_gets_the_page_with_the_card_the_server_loaded(client):
    response = client.get("/", headers={"Accept": BROWSER})
    assert response.status_code == 200 and response.mimetype == "text/html"
    card = json.loads((MODEL_DATA / "model-v1.json").read_text())
    data = page_data(response.get_data(as_text=True))
    assert data == {"card": card, "revision": "house-price-v1", "error": None}
    assert response.headers["Vary"] == "Accept"
    assert response.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_api_clients_get_kserve_v1_liveness(client, accept):
    """kserve's InferenceRESTClient.is_server_live (protocol v1): GET base URL, Accept */*."""
    response = client.get("/", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.get_json()["status"].lower() == "alive"
    assert response.headers["Vary"] == "Accept"


def test_the_page_may_run_only_its_own_inline_style_and_script(client):
    response = client.get("/", headers={"Accept": "text/html"})
    body, policy = response.get_data(as_text=True), response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    for tag in ("style", "script"):
        inline = re.search(rf"<{tag}>(.*?)</{tag}>", body, re.S).group(1)
        digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
        assert f"{tag}-src 'sha256-{digest}'" in policy
    assert re.findall(r'(?:src|href)="([^"]*)"', body) == ["data:,"]  # no external asset


def test_an_unready_model_still_serves_a_page_that_says_why(model_copy):
    model_copy.write_bytes(b"tampered")
    client = create_app({"model_path": model_copy}).test_client()
    data = page_data(client.get("/", headers={"Accept": "text/html"}).get_data(as_text=True))
    assert data["card"] == {} and "sha256" in data["error"]
    assert client.get("/").get_json() == {"status": "alive"}  # live, though not ready


def test_card_text_cannot_end_the_script_block():
    card = {"ethics": "</script><script>alert(1)</script>"}
    body, _headers = page.render(card, "r1")
    assert "<script>alert(1)" not in body
    assert page_data(body)["card"] == card
