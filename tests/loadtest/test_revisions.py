import itertools
import logging
from types import SimpleNamespace

import pytest
from locust.clients import HttpSession
from locust.env import Environment

from loadtest.revisions import RevisionCounter, Share
from tests.support.loopback_server import JsonHandler, serving


class TwoRevisions(JsonHandler):
    """Answers like a route splitting traffic evenly: blue, green, blue, green..."""

    revisions = itertools.cycle(["house-price-v1", "house-price-v2"])
    pods = itertools.cycle(["v1-pod-a", "v2-pod-a", "v1-pod-b", "v2-pod-a"])

    def do_POST(self):
        self.body()
        status = 503 if self.path == "/fail" else 200
        headers = {"X-Revision": next(self.revisions), "X-Pod": next(self.pods)}
        self.reply(status, {}, {} if self.path == "/bare" else headers)


@pytest.fixture
def two_revisions():
    with serving(TwoRevisions) as url:
        yield url


def test_counts_the_revisions_and_pods_a_locust_client_sees(two_revisions):
    environment = Environment()
    counter = RevisionCounter(interval=3600)
    environment.events.request.add_listener(counter.on_request)
    session = HttpSession(two_revisions, environment.events.request, user=None)
    for _ in range(6):
        session.post("/predict", json={})
    session.post("/fail", json={})
    session.post("/bare", json={})

    assert counter.totals() == {"house-price-v1": 4, "house-price-v2": 3, "(none)": 1}
    assert counter.pods() == {
        "house-price-v1": {"v1-pod-a", "v1-pod-b"}, "house-price-v2": {"v2-pod-a"}, "(none)": set()
    }  # fmt: skip
    failed = {share.revision: share.failures for share in counter.shares()}
    assert failed == {"house-price-v1": 1, "house-price-v2": 0, "(none)": 0}
    assert counter.summary() == (
        "requests per revision: (none) 1 (12%), house-price-v1 4 (50%, 2 pods), "
        "house-price-v2 3 (38%, 1 pod)"
    )


def answer(revision, pod=None):
    return SimpleNamespace(headers={"X-Revision": revision, "X-Pod": pod})


def test_splits_the_run_into_clock_intervals_and_logs_each_one_live(caplog):
    counter = RevisionCounter(interval=5, live=True)
    caplog.set_level(logging.INFO, logger="loadtest.revisions")
    for start, revision in [(1000.1, "blue"), (1003, "blue"), (1004, "green"), (1004.9, "blue")]:
        counter.on_request(start_time=start, response=answer(revision, f"{revision}-1"))
    assert caplog.messages == []
    counter.on_request(start_time=1005.0, response=answer("green"), exception=OSError("reset"))
    counter.on_request(start_time=1012.0, response=None, exception=ConnectionRefusedError())

    assert caplog.messages == [
        "revisions 00:16:40-00:16:45: 4 requests, 0 failures; blue 75% 1 pod, green 25% 1 pod",
        "revisions 00:16:45-00:16:50: 1 requests, 1 failures; green 100%",
    ]
    assert counter.shares() == [
        Share(1000.0, 5, "blue", 3, 0, 0.75, pods=1),
        Share(1000.0, 5, "green", 1, 0, 0.25, pods=1),
        Share(1005.0, 5, "green", 1, 1, 1.0),
        Share(1010.0, 5, "(none)", 1, 1, 1.0),
    ]


def test_quiet_unless_live(caplog):
    counter = RevisionCounter(interval=1)
    caplog.set_level(logging.INFO, logger="loadtest.revisions")
    for start in range(5):
        counter.on_request(start_time=start, response=answer("blue"))
    assert caplog.messages == []


def test_a_master_adds_up_what_its_workers_drained():
    workers = [RevisionCounter(interval=5), RevisionCounter(interval=5)]
    for start, (worker, revision, pod) in enumerate(
        [(0, "blue", "b-1"), (1, "blue", "b-2"), (0, "green", "g-1"), (1, "blue", "b-1")] * 3
    ):
        workers[worker].add(1000.0 + start, revision, pod, failed=start == 0)
    master = RevisionCounter(interval=5)
    master.merge(workers[0].drain())
    master.merge(workers[1].drain())
    master.merge(workers[1].drain())  # drained: nothing counted twice

    assert master.totals() == {"blue": 9, "green": 3}
    assert master.pods() == {"blue": {"b-1", "b-2"}, "green": {"g-1"}}
    assert [(s.start, s.revision, s.requests, s.failures, s.pods) for s in master.shares()] == [
        (1000, "blue", 4, 1, 2), (1000, "green", 1, 0, 1),
        (1005, "blue", 4, 0, 2), (1005, "green", 1, 0, 1),
        (1010, "blue", 1, 0, 1), (1010, "green", 1, 0, 1),
    ]  # fmt: skip


def test_a_live_master_waits_for_late_worker_reports_before_logging(caplog):
    master = RevisionCounter(interval=5, live=True, lag=4)
    caplog.set_level(logging.INFO, logger="loadtest.revisions")
    master.merge([[200, "blue", 3, 0, []]], now=1008.9)  # 1000-1005 may still get reports
    assert caplog.messages == []
    master.merge([[200, "blue", 1, 0, []], [201, "green", 2, 0, []]], now=1009.0)
    assert caplog.messages == ["revisions 00:16:40-00:16:45: 4 requests, 0 failures; blue 100%"]


def test_rejects_intervals_shorter_than_a_second():
    with pytest.raises(ValueError, match="at least 1 s"):
        RevisionCounter(interval=0)
