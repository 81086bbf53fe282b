"""The gates' settings are the one source of the gate options and of the README's table."""

import pytest

from knative.errors import RolloutError
from knative.gates.settings import GateSettings, gate_settings, options_table
from knative.rollout import parser
from tests.support.repo import REPO


def test_the_readme_shows_the_options_table_made_from_the_settings():
    assert options_table() in (REPO / "knative" / "README.md").read_text()


@pytest.mark.parametrize("command", [["shift", "--to", "house-price-v2"], ["promote"]])
def test_the_command_line_defaults_are_the_settings_defaults(command):
    assert gate_settings(parser().parse_args(command)) == GateSettings()


def test_each_option_sets_its_field():
    args = parser().parse_args(["promote", "--max-p99-ms", "250", "--on-no-data", "fail"])
    settings = gate_settings(args)
    assert (settings.max_p99_ms, settings.on_no_data) == (250.0, "fail")
    assert settings.report_path("promote").name == "rollout-promote.json"


def test_a_live_window_shorter_than_two_scrapes_is_refused():
    args = parser().parse_args(
        ["promote", "--prometheus-url", "http://127.0.0.1:9090", "--interval", "1s"]
    )
    with pytest.raises(RolloutError, match="too short a window"):
        gate_settings(args)
