"""Every gated run leaves a record, whatever its end: the JSON report (``--report``), a short
table on the terminal, and the verdict as an annotation on the Service, which ``status`` shows.
"""

import sys
from contextlib import contextmanager
from pathlib import Path

from knative.errors import GateFailed, Interrupted, RolloutError, Superseded
from knative.plan import Traffic
from knative.report import ANNOTATION, Report
from knative.steps import traffic_of


@contextmanager
def recorded(ctx, gates, command: str, start: Traffic, path: Path):
    """Record the gates run inside the block in a ``Report`` written at ``path``; show it."""
    report = Report(command, ctx.service.name, gates.candidate, dict(start.percents))
    report.incumbent, gates.report = gates.incumbent, report
    try:
        report.write(path)  # verdict "running": a run that cannot keep its record does not start
    except OSError as exc:
        failed = f"cannot write the report {path}: {exc.strerror}; nothing was changed"
        raise RolloutError(failed) from None
    try:
        yield report
    except GateFailed as exc:
        _finish(ctx, report, "failed", str(exc))
        raise
    except Superseded as exc:  # another writer holds the Service now: leave it alone
        report.finish("superseded", str(exc), None)
        raise
    except RolloutError as exc:
        _finish(ctx, report, "error", str(exc))
        raise
    except (KeyboardInterrupt, Interrupted) as exc:
        report.finish("interrupted", str(exc) or "interrupted by the operator", None)
        raise
    else:
        _finish(ctx, report, "passed", None)
    finally:
        try:
            report.write(path)
        except OSError as exc:
            print(f"warning: the report {path} was not written: {exc.strerror}", file=sys.stderr)
        print(report.table())
        print(f"report: {path}")
        if report.verdict not in ("interrupted", "superseded"):
            _annotate(ctx, report, path)


def _finish(ctx, report: Report, verdict: str, reason: str | None) -> None:
    """The verdict, with the traffic as the Service says it is now (None if it cannot be read)."""
    try:
        traffic = dict(traffic_of(ctx.service.get()).percents)
    except RolloutError:
        traffic = None
    report.finish(verdict, reason, traffic)


def _annotate(ctx, report: Report, path: Path) -> None:
    try:
        ctx.service.annotate(ANNOTATION, report.annotation(path))
    except RolloutError as exc:
        print(f"warning: the verdict is not on the Service: {exc}", file=sys.stderr)
