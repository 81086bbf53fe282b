"""Locust users for the house-price predictor, wired to the load shapes, SLO gate and report.

Run from the repository root: `locust --config loadtest/locust.conf` (loadtest/README.md).
"""

import functools
import logging
import random
import sys

import locust.stats
from locust import FastHttpUser, between, events, task
from locust.env import Environment
from locust.runners import WorkerRunner

from loadtest import distributed, options, report, shapes, slo
from loadtest.coldstart import ColdStartTracker
from loadtest.protocols import BadReply, CloudEventBinary, OpenInferenceV2, PandasPredict, Protocol
from loadtest.revisions import RevisionCounter
from loadtest.rows import RowSampler
from loadtest.shapes import NamedShape  # noqa: F401  (locust runs the shape class it finds here)

locust.stats.PERCENTILES_TO_CHART = list(report.PERCENTILES)  # history for the PNG: p50/p95/p99
locust.stats.HISTORY_STATS_INTERVAL_SEC = 1
BATCH_SIZES = range(2, 9)
logger = logging.getLogger(__name__)


class PredictorUser(FastHttpUser):
    """Asks for predictions of sampled rows in one protocol and checks every reply."""

    abstract = True
    wait_time = between(0.05, 0.25)
    protocol: Protocol
    rows: RowSampler  # set for all users at init, from --model-card
    cold_start: ColdStartTracker  # shared: silence is a property of the service, not of a user

    @task(3)
    def single_row(self) -> None:
        self.predict(self.rows.rows(1), self.protocol.name)

    @task
    def small_batch(self) -> None:
        rows = self.rows.rows(random.choice(BATCH_SIZES))
        self.predict(rows, self.protocol.name + " [batch]")

    def predict(self, rows: list[dict[str, float]], name: str) -> None:
        cold = self.cold_start.is_cold()
        headers, body = self.protocol.encode(rows)
        with self.client.post(
            self.protocol.path,
            data=body,
            headers=headers,
            name=self.cold_start.label(name, cold),
            catch_response=True,
        ) as response:
            if response.status_code:  # 0: no answer at all (connection refused, timeout)
                self.cold_start.answered()
            if response.status_code != 200:
                snippet = (response.content or b"")[:200].decode(errors="replace")
                response.failure(f"HTTP {response.status_code}: {snippet}")
                return
            try:
                self.protocol.predictions(response.headers, response.content, len(rows))
            except BadReply as error:
                response.failure(str(error))


class PandasUser(PredictorUser):
    """The original contract: POST /predict with pandas "columns" JSON."""

    protocol = PandasPredict()


class OpenInferenceUser(PredictorUser):
    """Open Inference Protocol V2: POST /v2/models/house-price/infer."""

    protocol = OpenInferenceV2()


class CloudEventUser(PredictorUser):
    """A CloudEvent in binary mode: POST / with ce-* headers."""

    protocol = CloudEventBinary()


events.init_command_line_parser.add_listener(options.add_arguments)


@events.init.add_listener
def configure(environment: Environment, **_kwargs: object) -> None:
    """Check the options before any load, then hook up revision counting, report and gate."""
    parsed = environment.parsed_options
    try:
        if not isinstance(environment.runner, WorkerRunner):  # the shape runs where the run time is
            shapes.from_options(parsed)
        PredictorUser.rows = RowSampler.from_card(parsed.model_card)
        PredictorUser.cold_start = ColdStartTracker(parsed.scale_to_zero_window)
        counter = distributed.counter_for(
            environment, parsed.revision_interval, live=parsed.shape == "rollout"
        )
    except ValueError as error:
        sys.exit(f"loadtest: {error}")
    environment.events.quitting.add_listener(slo.gate)  # quitting runs listeners last-first
    environment.events.quitting.add_listener(functools.partial(save_report, counter=counter))


def save_report(environment: Environment, counter: RevisionCounter, **_kwargs: object) -> None:
    """Print the revision split; with --csv, write it and the PNG next to locust's CSV files."""
    if isinstance(environment.runner, WorkerRunner):
        return
    print(counter.summary())
    prefix = environment.parsed_options.csv_prefix
    if prefix:
        report.write_csv(counter.shares(), f"{prefix}_revisions.csv")
        report.write_png(environment.stats.history, counter.shares(), f"{prefix}_report.png")
        logger.info("report: %s_report.png, %s_revisions.csv", prefix, prefix)
