"""Every Knative Service we apply passes the Service CRD's schema from Knative 1.23.0."""

import jsonschema
import pytest

from tests.release.manifests.knative_manifests import (
    PHASES,
    phase_service,
    service_schema,
)


def schema_errors(service: dict) -> list[str]:
    validator = jsonschema.Draft4Validator(service_schema())
    return [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(service)
    ]


@pytest.mark.parametrize("phase", PHASES)
def test_every_phase_matches_the_crd_schema(phase):
    assert schema_errors(phase_service(phase)) == []


def test_a_misspelt_field_is_caught_not_silently_pruned():
    service = phase_service(PHASES[0])
    container = service["spec"]["template"]["spec"]["containers"][0]
    container["readinessprobe"] = container.pop("readinessProbe")
    assert any("readinessprobe" in error for error in schema_errors(service))


def test_a_wrong_type_is_caught():
    service = phase_service(PHASES[0])
    service["spec"]["traffic"][0]["percent"] = "100"
    assert any(error.startswith("spec.traffic.0.percent") for error in schema_errors(service))
