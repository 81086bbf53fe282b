import csv
import itertools
import logging
import time
from types import SimpleNamespace

import pytest
from locust.clients import HttpSession
from locust.env import Environment

from loadtest.revisions import RevisionCounter, Share
from tests.support.loopback_server import JsonHandler, serving


class TwoRevisions(JsonHandler):
    """Answers like a route splitting traffic evenly: blue, green, blue, green..."""

    revisions = itertools.cycle(["house-price-v1", "house-price-v2"])

    def do_POST(self):
        self.body()
        status = 503 if self.path == "/fail" else 200
        headers = {} if self.path == "/bare" else {"X-Revision": next(self.revisions)}
        self.reply(status, {}, headers)


@pytest.fixture
def two_revisions():
    with serving(TwoRevisions) as url:
        yield url


def test_counts_the_revisions_a_locust_client_sees(two_revisions):
    environment = Environment()
    counter = RevisionCounter(origin=time.time(), interval=3600)
    environment.events.request.add_listener(counter.on_request)
    session = HttpSession(two_revisions, environment.events.request, user=None)
    for _ in range(6):
        session.post("/predict", json={})
    session.post("/fail", json={})
    session.post("/bare", json={})

    assert counter.totals() == {"house-price-v1": 4, "house-price-v2": 3, "(none)": 1}
    failed = {share.revision: share.failures for share in counter.shares()}
    assert failed == {"house-price-v1": 1, "house-price-v2": 0, "(none)": 0}


def answer(revision):
    return SimpleNamespace(headers={"X-Revision": revision})


def test_splits_the_run_into_intervals_and_logs_each_one_live(caplog):
    counter = RevisionCounter(origin=1000.0, interval=5, live=True)
    caplog.set_level(logging.INFO, logger="loadtest.revisions")
    for start, revision in [(1000.1, "blue"), (1003, "blue"), (1004, "green"), (1004.9, "blue")]:
        counter.on_request(start_time=start, response=answer(revision))
    assert caplog.messages == []
    counter.on_request(start_time=1005.0, response=answer("green"), exception=OSError("reset"))
    counter.on_request(start_time=1012.0, response=None, exception=ConnectionRefusedError())

    assert caplog.messages == [
        "revisions 0-5s: 4 requests, 0 failures; blue 75%, green 25%",
        "revisions 5-10s: 1 requests, 1 failures; green 100%",
    ]
    assert counter.shares() == [
        Share(1000.0, 5, "blue", 3, 0, 0.75),
        Share(1000.0, 5, "green", 1, 0, 0.25),
        Share(1005.0, 5, "green", 1, 1, 1.0),
        Share(1010.0, 5, "(none)", 1, 1, 1.0),
    ]


def test_quiet_unless_live(caplog):
    counter = RevisionCounter(origin=0.0, interval=1)
    caplog.set_level(logging.INFO, logger="loadtest.revisions")
    for start in range(5):
        counter.on_request(start_time=start, response=answer("blue"))
    assert caplog.messages == []


def test_writes_the_split_as_csv(tmp_path):
    counter = RevisionCounter(origin=1000.0, interval=2)
    counter.on_request(start_time=1000.5, response=answer("blue"))
    counter.on_request(start_time=1001.0, response=answer("green"))
    counter.write_csv(tmp_path / "run_revisions.csv")
    with open(tmp_path / "run_revisions.csv") as file:
        rows = list(csv.reader(file))
    assert rows == [
        ["Timestamp", "Seconds", "Revision", "Requests", "Failures", "Share"],
        ["1000.000", "2", "blue", "1", "0", "0.5000"],
        ["1000.000", "2", "green", "1", "0", "0.5000"],
    ]


def test_rejects_intervals_shorter_than_a_second():
    with pytest.raises(ValueError, match="at least 1 s"):
        RevisionCounter(origin=0.0, interval=0)
