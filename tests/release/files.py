"""The release files, parsed: the CircleCI config, the Dockerfile, the Makefile."""

import json
import re

import yaml
from dockerfile_parse import DockerfileParser

from tests.support.repo import REPO

CIRCLECI_CONFIG = REPO / ".circleci" / "config.yml"
SMOKE_TEST = REPO / ".circleci" / "smoke-test.sh"


def circleci_config() -> dict:
    return yaml.safe_load(CIRCLECI_CONFIG.read_text())


def workflow_entries(config: dict, workflow: str = "ship") -> dict[str, tuple[str, dict]]:
    """Each job entry of a workflow by the name it runs under: (job, its parameters)."""
    entries = {}
    for entry in config["workflows"][workflow]["jobs"]:
        job, params = (entry, {}) if isinstance(entry, str) else next(iter(entry.items()))
        entries[params.get("name", job)] = (job, params)
    return entries


def required(params: dict) -> dict[str, list[str]]:
    """An entry's `requires`, each job with the statuses it accepts (success by default)."""
    result = {}
    for item in params.get("requires", []):
        if isinstance(item, str):
            result[item] = ["success"]
        else:
            ((name, statuses),) = item.items()
            result[name] = [statuses] if isinstance(statuses, str) else list(statuses)
    return result


def run_commands(config: dict) -> list[str]:
    """The command of every `run` step, in jobs and in reusable commands, `when` steps included."""
    blocks = [*config["jobs"].values(), *config.get("commands", {}).values()]
    return [command for block in blocks for command in _runs(block["steps"])]


def _runs(steps: list) -> list[str]:
    commands = []
    for step in steps:
        if isinstance(step, dict) and "run" in step:
            run = step["run"]
            commands.append(run if isinstance(run, str) else run["command"])
        elif isinstance(step, dict) and "when" in step:
            commands += _runs(step["when"]["steps"])
    return commands


def makefile_targets() -> set[str]:
    rule = re.compile(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", re.MULTILINE)
    return set(rule.findall((REPO / "Makefile").read_text()))


def dockerfile() -> DockerfileParser:
    return DockerfileParser(path=str(REPO / "Dockerfile"))


def runtime_stage(parser: DockerfileParser) -> list[dict]:
    """The instructions of the last stage, the image that runs."""
    last_from = max(i for i, ins in enumerate(parser.structure) if ins["instruction"] == "FROM")
    return parser.structure[last_from + 1 :]


def instruction_values(instructions: list[dict], name: str) -> list[str]:
    return [ins["value"] for ins in instructions if ins["instruction"] == name]


def context_copies(instructions: list[dict]) -> list[tuple[list[str], str]]:
    """(sources, destination) of every COPY that reads the build context, not another stage."""
    copies = []
    for value in instruction_values(instructions, "COPY"):
        if not value.startswith("--from="):
            *sources, destination = value.split()
            copies.append((sources, destination))
    return copies


def context_copy_sources(instructions: list[dict]) -> list[str]:
    return [source for sources, _ in context_copies(instructions) for source in sources]


def entrypoint(instructions: list[dict]) -> list[str]:
    (value,) = instruction_values(instructions, "ENTRYPOINT")
    return json.loads(value)
