from pathlib import Path

import pytest
from locust.argument_parser import get_empty_argument_parser, setup_parser_arguments

from loadtest import options, shapes
from loadtest.slo import Slo
from tests.support.repo import REPO

ROOT = REPO


def parse(args, config: Path, env=None):
    parser = get_empty_argument_parser(default_config_files=[str(config)])
    setup_parser_arguments(parser)
    options.add_arguments(parser)
    return parser.parse_args(args, env_vars=env or {})


def test_slo_defaults_come_from_the_project_locust_conf():
    parsed = parse([], ROOT / "loadtest" / "locust.conf")
    assert Slo.from_options(parsed) == Slo(
        p95_ms=250, p99_ms=500, max_failure_ratio=0.01, min_rps=5
    )
    assert (parsed.shape, parsed.model_card) == ("steady", "model_data/model-v1.json")
    assert type(shapes.from_options(parsed)) is shapes.Steady


def test_the_command_line_beats_env_and_env_beats_the_file(tmp_path):
    config = tmp_path / "locust.conf"
    config.write_text(
        "slo-p95-ms = 100\nslo-p99-ms = 200\nslo-failure-ratio = 0\nslo-min-rps = 1\n"
    )
    env = {"LOCUST_SLO_P95_MS": "150", "LOCUST_SLO_P99_MS": "300", "LOCUST_SHAPE": "spike"}
    parsed = parse(["--slo-p99-ms", "400"], config, env)
    assert Slo.from_options(parsed) == Slo(150, 400, 0, 1)
    assert parsed.shape == "spike"


def test_a_missing_threshold_or_unknown_shape_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit):
        parse([], tmp_path / "empty.conf")
    assert "--slo-p95-ms" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse(["--shape", "sawtooth"], ROOT / "loadtest" / "locust.conf")
    assert "invalid choice: 'sawtooth'" in capsys.readouterr().err


def test_env_names_follow_locust():
    assert options.env_var("--slo-failure-ratio") == "LOCUST_SLO_FAILURE_RATIO"
