"""X-Pod: the pod that answered, named only when the operator turns it on (EXPOSE_POD_NAME)."""

import pytest

from function.config import Settings


def test_responses_name_the_pod_only_when_the_operator_says_so(client_with, row):
    assert "X-Pod" not in client_with().post("/predict", json=row).headers
    named = client_with(pod_name="house-price-v1-deployment-7d9f-x2x")
    for response in (named.post("/predict", json=row), named.get("/healthz")):
        assert response.headers["X-Pod"] == "house-price-v1-deployment-7d9f-x2x"


@pytest.mark.parametrize(
    ("value", "pod"),
    [(None, None), ("", None), ("0", None), ("false", None), ("1", "pod-7"), ("True", "pod-7")],
)
def test_expose_pod_name_takes_the_hostname(value, pod):
    env = {"HOSTNAME": "pod-7"} | ({"EXPOSE_POD_NAME": value} if value is not None else {})
    assert Settings.from_env(env).pod_name == pod


def test_a_malformed_expose_pod_name_stops_start_up():
    with pytest.raises(ValueError, match="EXPOSE_POD_NAME must be true or false, got 'maybe'"):
        Settings.from_env({"EXPOSE_POD_NAME": "maybe"})
