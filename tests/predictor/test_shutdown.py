"""SIGTERM at any moment ends the server within a bounded time with exit 0, in-flight work done.

Each phase is tried several times at random moments, the servers side by side to keep this fast.
With READ_TIMEOUT_SECONDS=1 a stalled client holds shutdown for about a second; granian's kill
timeout (READ_TIMEOUT_SECONDS + 5 s) lies beyond BOUND, so a server that hangs fails here.
"""

import os
import random
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from loadtest.local_server import wait_ready
from tests.predictor import processes, raw_http
from tests.support.repo import SAMPLE_ROW

pytestmark = pytest.mark.slow

BOUND = 5  # seconds from the signal to the exit
ENV = {"READ_TIMEOUT_SECONDS": "1"}


def each_exits_cleanly(tries, scenario):
    with ThreadPoolExecutor(tries) as pool:
        for code, output in pool.map(lambda _: scenario(), range(tries)):
            assert code == 0, f"exit code {code} (None: still running after {BOUND} s)\n{output}"
            assert "Traceback" not in output and "Unexpected exit" not in output, output


def started(wait_until_ready):
    process, url = processes.start(**ENV)
    if wait_until_ready:
        wait_ready(process, url)
    else:  # until it handles SIGTERM at all: before that, the default action ends it anyway
        while not processes.handles_sigterm(process.pid) and process.poll() is None:
            time.sleep(0.001)
    return process, url


def signalled(process, signum=signal.SIGTERM, group=False):
    if group:  # as Ctrl-C in a terminal: the supervisor and its worker both get it
        os.killpg(process.pid, signum)
    else:  # as Kubernetes does it: PID 1 alone
        process.send_signal(signum)
    return processes.finish(process, BOUND)


@pytest.mark.parametrize(
    ("ready", "tries", "delay"),
    [(False, 10, 0.6), (True, 3, 0.3)],
    ids=["while the worker starts", "when idle"],  # it loads the model for ~0.3 s, more when busy
)
def test_sigterm(ready, tries, delay):
    def scenario():
        process, _ = started(wait_until_ready=ready)
        time.sleep(random.uniform(0, delay))
        return signalled(process)

    each_exits_cleanly(tries, scenario)


def test_ctrl_c_to_the_process_group_at_any_moment():
    def scenario():
        process, _ = started(wait_until_ready=random.random() < 0.5)
        time.sleep(random.uniform(0, 0.4))
        return signalled(process, signal.SIGINT, group=True)

    each_exits_cleanly(4, scenario)


def test_sigterm_under_load_answers_every_request_it_took():
    def scenario():
        process, url = started(wait_until_ready=True)
        with ThreadPoolExecutor(3) as clients:
            replies = [clients.submit(post_until_refused, url) for _ in range(3)]
            time.sleep(random.uniform(0.1, 0.4))
            result = signalled(process)
            statuses = [status for reply in replies for status in reply.result()]
        assert statuses and set(statuses) == {200}, statuses  # none cut off with a 5xx
        return result

    each_exits_cleanly(3, scenario)


def test_sigterm_during_a_stalled_upload_finishes_the_request_in_flight():
    """The stalled upload is cut at READ_TIMEOUT_SECONDS; the request in flight is answered."""

    def scenario():
        process, url = started(wait_until_ready=True)
        body = requests.models.complexjson.dumps([SAMPLE_ROW]).encode()
        stalled, in_flight = raw_http.connect(url), raw_http.connect(url)
        post = raw_http.head("POST", "/predict", Content_Type="application/json",
                             Content_Length=len(body))  # fmt: skip
        try:
            with stalled, in_flight:
                stalled.sendall(post + body[:5])
                in_flight.sendall(post + body[:5])
                time.sleep(random.uniform(0, 0.3))
                process.send_signal(signal.SIGTERM)
                in_flight.sendall(body[5:])
                assert raw_http.read_reply(in_flight)[0] == 200
                assert raw_http.read_reply(stalled)[0] == 408
        except BaseException:
            processes.kill_tree(process)
            raise
        return processes.finish(process, BOUND)

    each_exits_cleanly(3, scenario)


def post_until_refused(url):
    """Statuses of back-to-back predictions, until the server stops taking connections."""
    statuses = []
    with requests.Session() as session:
        while True:
            try:
                response = session.post(f"{url}/predict", json=[SAMPLE_ROW], timeout=BOUND)
            except requests.ConnectionError:
                return statuses
            statuses.append(response.status_code)


def test_the_worker_does_not_outlive_a_killed_supervisor():
    """The worker has a process group of its own; it must still end when the supervisor is
    killed outright (SIGKILL is not forwarded), and free the port."""
    process, url = started(wait_until_ready=True)
    [worker] = map(
        int, Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    )
    process.kill()
    processes.finish(process, BOUND)
    deadline = time.monotonic() + BOUND
    while running(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    if running(worker):
        os.kill(worker, signal.SIGKILL)
        pytest.fail(f"the worker still ran {BOUND} s after its supervisor was killed")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/healthz", timeout=BOUND)


def running(pid):
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
