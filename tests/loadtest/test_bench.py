"""``make bench``'s reference: the floor answers what the predictor answers; wrk's report read."""

import json

import pytest
import requests

from loadtest import bench
from loadtest.local_server import free_port, stop, wait_ready

WRK_REPORT = """Running 10s test @ http://127.0.0.1:8080/predict
  1 threads and 8 connections
  Latency Distribution
     50%  612.00us
     75%  701.00us
     90%  820.00us
     99%    {p99}
  130000 requests in 10.00s, 20.00MB read
Requests/sec:  12974.31
Transfer/sec:      2.00MB
"""


@pytest.fixture(scope="module")
def servers():
    """The predictor and the floor, started the way ``make bench`` starts them; name -> URL."""
    ports = {name: free_port() for name in bench.SERVERS}
    processes = {name: bench.start(name, ports[name]) for name in bench.SERVERS}
    try:
        for name, process in processes.items():
            wait_ready(process, f"http://127.0.0.1:{ports[name]}")
        yield {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    finally:
        for process in processes.values():
            stop(process)


@pytest.mark.slow
@pytest.mark.parametrize("load", bench.LOADS, ids=lambda load: load.name)
def test_the_floor_answers_every_load_as_the_predictor_does(servers, load):
    """Same model, same answers: the floor is a reference for the same work, not less of it."""
    answers = {}
    for name, url in servers.items():
        if load.body is None:
            response = requests.get(url + load.path, timeout=5)
        else:
            data = json.dumps(load.body)
            headers = {"Content-Type": "application/json"}
            response = requests.post(url + load.path, data=data, headers=headers, timeout=5)
        assert response.status_code == 200, (name, response.text)
        answers[name] = response.json()
    assert answers["floor"] == answers["predictor"]


@pytest.mark.parametrize(
    ("p99", "milliseconds"), [("812.00us", 0.812), ("2.40ms", 2.4), ("1.05s", 1050.0)]
)
def test_wrk_latency_in_any_unit_reads_as_milliseconds(p99, milliseconds):
    assert bench.parse_wrk(WRK_REPORT.format(p99=p99)) == (12974.31, pytest.approx(milliseconds))


@pytest.mark.parametrize("trouble", ["Non-2xx or 3xx responses: 12", "Socket errors: read 3"])
def test_a_run_with_failed_requests_is_no_figure(trouble):
    with pytest.raises(SystemExit, match="wrk saw errors"):
        bench.parse_wrk(WRK_REPORT.format(p99="2.40ms") + trouble + "\n")
