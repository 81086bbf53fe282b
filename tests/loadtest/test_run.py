"""Short, bounded headless locust runs (a subprocess) against a real local server process."""

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.loadtest.locust_run import LENIENT, locust, rows

REVISION = "house-price-v1"  # what the `server` fixture (conftest) answers as

pytestmark = pytest.mark.slow


def answered(server: str) -> int:
    """Requests the server has answered on the paths locust loads (its own metrics)."""
    text = requests.get(f"{server}/metrics", timeout=5).text
    [family] = [f for f in text_string_to_metric_families(text) if f.name == "house_price_requests"]
    return sum(
        int(sample.value)
        for sample in family.samples
        if sample.name.endswith("_total") and sample.labels["endpoint"] in LOADED_PATHS
    )


LOADED_PATHS = {"/predict", "/v2/models/house-price/infer", "/"}


def test_a_run_within_lenient_slos_passes_and_writes_every_report(server, tmp_path):
    before = answered(server)
    run = locust(server, tmp_path / "run", *LENIENT, "--slo-min-rps", "1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SLO met: p95" in run.stdout
    sent = answered(server) - before  # the gate and the split count exactly what was sent
    assert f"requests judged: {sent} (0 failed)" in run.stdout
    assert sum(int(row["Requests"]) for row in rows(tmp_path / "run_revisions.csv")) == sent

    stats = {row["Name"]: row for row in rows(tmp_path / "run_stats.csv")}
    for name in ["/predict", "/v2/models/house-price/infer", "/ [cloudevent]"]:
        assert int(stats[name]["Request Count"]) > 0, name
    assert stats["Aggregated"]["Failure Count"] == "0"
    assert {row["Revision"] for row in rows(tmp_path / "run_revisions.csv")} == {REVISION}
    assert (tmp_path / "run_report.png").read_bytes().startswith(b"\x89PNG")
    assert "<html" in (tmp_path / "run.html").read_text()


def test_an_impossible_slo_exits_non_zero_naming_the_breach(server, tmp_path):
    run = locust(server, tmp_path / "run", *LENIENT, "--slo-min-rps", "1000000")
    assert run.returncode == 1, run.stdout + run.stderr
    breaches = [line for line in run.stdout.splitlines() if line.startswith("SLO BREACH")]
    assert len(breaches) == 1, run.stdout + run.stderr
    assert breaches[0].startswith("SLO BREACH: throughput ")
    assert breaches[0].endswith(" req/s < 1e+06 req/s")


def test_a_broken_setup_fails_before_any_load(tmp_path):
    run = locust("http://127.0.0.1:9", tmp_path / "run", "--model-card", str(tmp_path / "no.json"))
    assert run.returncode == 1
    assert f"loadtest: model card {tmp_path / 'no.json'} not found" in run.stderr
    assert "Shape test starting" not in run.stderr
