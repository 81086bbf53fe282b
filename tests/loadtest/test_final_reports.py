"""A distributed run ends only once every worker has reported since its users stopped."""

import pytest
from locust.env import Environment
from locust.runners import WorkerNode

from loadtest.distributed import FinalReports
from loadtest.local_server import free_port


@pytest.fixture
def master():
    runner = Environment().create_master_runner("127.0.0.1", free_port())
    for name, users in (("w1", 2), ("w2", 1)):
        runner.clients[name] = WorkerNode(name)
        runner.clients[name].user_classes_count = {"PandasUser": users}
    yield runner
    runner.quit()


def stopped(runner, client_id):
    """As locust's master records it from the worker's report: no users left."""
    runner.clients[client_id].user_classes_count = {"PandasUser": 0}


def test_waits_for_a_report_from_each_worker_after_its_users_stopped(master):
    final = FinalReports(master)
    final.on_worker_report("w1", {})  # during the run: not a final report
    assert final.pending(now=100.0)
    stopped(master, "w1")
    final.on_worker_report("w1", {})
    final.on_worker_report("w2", {})  # w2 still has users: its last requests may be yet to come
    assert final.pending(now=101.0)
    stopped(master, "w2")
    final.on_worker_report("w2", {})
    assert not final.pending(now=102.0)


def test_a_worker_that_never_reports_delays_the_end_only_so_long(master):
    final = FinalReports(master)
    assert final.pending(now=100.0)
    assert final.pending(now=100.0 + FinalReports.MAX_WAIT - 0.1)
    assert not final.pending(now=100.0 + FinalReports.MAX_WAIT)


def test_only_a_master_waits():
    assert FinalReports.on_master(Environment().create_local_runner()) is None
