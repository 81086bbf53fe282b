"""Distributed runs (--processes N, or --master with --worker processes).

Only the processes that send requests see who answered, so each worker adds its answer counts
(and whether one of its listeners crashed) to every stats report it sends; the master adds them
up, and its report and SLO gate judge the whole run. Counts ride in the same message as locust's
own request statistics, so the two totals always agree.
"""

import locust.runners
from locust import log
from locust.env import Environment
from locust.runners import MasterRunner, Runner, WorkerRunner

from loadtest.revisions import RevisionCounter

ANSWERS, CRASHED = "house_price_answers", "house_price_crashed"
# Workers report every second (locust's default is 3 s): the live split and the end of a run wait
# for their reports. A report is one small message.
REPORT_INTERVAL = locust.runners.WORKER_REPORT_INTERVAL = 1.0


def counter_for(environment: Environment, interval: int, live: bool) -> RevisionCounter:
    """A counter wired to this process's role: count requests, report them, or add them up."""
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        counter = RevisionCounter(interval, live, lag=REPORT_INTERVAL + 1)
        environment.events.worker_report.add_listener(
            lambda client_id, data: on_worker_report(counter, data)
        )
        return counter
    counter = RevisionCounter(interval, live=live and not isinstance(runner, WorkerRunner))
    environment.events.request.add_listener(counter.on_request)
    if isinstance(runner, WorkerRunner):
        environment.events.report_to_master.add_listener(
            lambda client_id, data: on_report_to_master(counter, data)
        )
    return counter


def on_report_to_master(counter: RevisionCounter, data: dict) -> None:
    data[ANSWERS] = counter.drain()
    data[CRASHED] = log.unhandled_greenlet_exception


def on_worker_report(counter: RevisionCounter, data: dict) -> None:
    counter.merge(data.get(ANSWERS, []))
    if data.get(CRASHED):
        log.unhandled_greenlet_exception = True  # a worker's crash is the run's: the gate sees it


class FinalReports:
    """Before a distributed run ends, wait for each worker's report sent after its users stopped.

    When a headless master quits, locust gives the workers' last reports 0.5 s to arrive; a busy
    worker's comes later and its last requests are lost, from locust's statistics and from ours.
    So once the stages are over, the shape holds the users at zero until every worker has sent a
    report since it stopped its users (or two report intervals have passed).
    """

    MAX_WAIT = 5 * REPORT_INTERVAL  # seconds

    def __init__(self, runner: MasterRunner) -> None:
        self.runner = runner
        self.since: float | None = None  # when the stages ended
        self.reported: set[str] = set()
        runner.environment.events.worker_report.add_listener(self.on_worker_report)

    @classmethod
    def on_master(cls, runner: Runner) -> "FinalReports | None":
        return cls(runner) if isinstance(runner, MasterRunner) else None

    def on_worker_report(self, client_id: str, data: dict) -> None:
        worker = self.runner.clients.get(client_id)
        if self.since is not None and worker is not None and worker.user_count == 0:
            self.reported.add(client_id)  # sent after its users stopped: nothing left out

    def pending(self, now: float) -> bool:
        if self.since is None:
            self.since = now
        waiting = set(self.runner.clients) - self.reported
        return bool(waiting) and now - self.since < self.MAX_WAIT
