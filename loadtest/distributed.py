"""Distributed runs (--processes N, or --master with --worker processes).

Only the processes that send requests see who answered, so each worker adds its answer counts
(and whether one of its listeners crashed) to every stats report it sends; the master adds them
up, and its report and SLO gate judge the whole run. Counts ride in the same message as locust's
own request statistics, so the two totals always agree.
"""

from locust import log
from locust.runners import WORKER_REPORT_INTERVAL, MasterRunner, WorkerRunner

from loadtest.revisions import RevisionCounter

ANSWERS, CRASHED = "house_price_answers", "house_price_crashed"


def counter_for(environment, interval: int, live: bool) -> RevisionCounter:
    """A counter wired to this process's role: count requests, report them, or add them up."""
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        counter = RevisionCounter(interval, live, lag=WORKER_REPORT_INTERVAL + 1)
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
