"""``python -m knative.rollout``: the command line, its messages and exit codes.

Exit codes: 0 done, 1 a gate failed and traffic was put back (doctor: a check failed), 2 bad
usage, an API error or another writer (the message says where traffic is), 130 interrupted
(Ctrl-C), 143 terminated (SIGTERM, handled as Ctrl-C is).
"""

import argparse
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

from knative.commands.deploy import deploy
from knative.commands.doctor import Cluster, doctor
from knative.commands.rollback import rollback
from knative.commands.shift import promote, shift
from knative.commands.status import render, report
from knative.commands.steps import Context, read_now
from knative.commands.warm import CAPACITY, WarmStart
from knative.errors import GateFailed, Interrupted, RolloutError, Terminated
from knative.gates.prometheus import Prometheus
from knative.gates.settings import URL, checked, gate_options, gate_settings
from knative.kube.calls import Calls, connect
from knative.kube.service import KnativeService
from knative.lease.guard import guarded
from knative.lease.lease import Lease
from knative.lease.terms import holder_identity
from knative.traffic.plan import parse_duration, parse_steps

DEFAULTS_SHOWN = argparse.ArgumentDefaultsHelpFormatter
STEPS = "10,25,50,100"  # shift's steps; deploy warms green for the first


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m knative.rollout",
        description="Move traffic between Knative revisions step by step, gated, with rollback.",
    )
    top.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")
    top.add_argument("--context", help="kubeconfig context (default: the current one)")
    top.add_argument("-n", "--namespace", default="house-price", help="default: house-price")
    top.add_argument("-s", "--service", default="house-price", help="default: house-price")
    top.add_argument(
        "--request-timeout",
        type=checked(parse_duration, 0.1),
        default="10s",
        help="longest wait for one whole answer of the API server or Prometheus (default: 10s)",
    )
    every = argparse.ArgumentParser(add_help=False)
    every.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    waits = argparse.ArgumentParser(add_help=False)
    waits.add_argument(
        "--timeout", type=checked(parse_duration), default="300s", help="longest wait for Ready"
    )
    gated = gate_options()
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, summary: str, *parents: argparse.ArgumentParser
    ) -> argparse.ArgumentParser:
        return commands.add_parser(
            name, parents=[every, *parents], help=summary, formatter_class=DEFAULTS_SHOWN
        )

    status = command("status", "revisions, traffic, tags, URLs")
    status.add_argument("-o", "--output", choices=["text", "json"], default="text", help="format")
    new = command("deploy", "new revision at 0 %% green", waits)
    new.add_argument("--image", required=True, help="container image of the new revision")
    new.add_argument("--model-version", required=True, metavar="V", help="serve model-vV.onnx")
    new.add_argument(
        "--release",
        required=True,
        metavar="R",
        help="e.g. the short git sha; names the revision <service>-vV-R",
    )
    warm = new.add_argument_group("warm start: green's initial-scale sized for blue's traffic")
    warm.add_argument(
        "--prometheus-url", type=URL, help="read blue's traffic here; if unset, no sizing"
    )
    warm.add_argument(
        "--pod-rps",
        type=checked(float, 0.001),
        metavar="N",
        help="one pod's req/s at the autoscaling target; if unset, read off --capacity",
    )
    warm.add_argument(
        "--capacity",
        type=Path,
        default=CAPACITY,
        help="the measured per-pod curve, read at the template's autoscaling target",
    )
    warm.add_argument(
        "--first-step",
        type=checked(int, 1, 100),
        default=parse_steps(STEPS)[0],
        metavar="PERCENT",
        help="the percent the first shift step will send green",
    )
    step = command("shift", "gated traffic steps", waits, gated)
    step.add_argument("--to", required=True, metavar="REVISION", help="the candidate revision")
    step.add_argument(
        "--steps", type=checked(parse_steps), default=STEPS, help="candidate percents"
    )
    command("promote", "green to 100 %%, gated", waits, gated)
    command("rollback", "all traffic to blue", waits)
    checkup = commands.add_parser(
        "doctor", help="check the cluster for what a release needs", formatter_class=DEFAULTS_SHOWN
    )
    checkup.add_argument(
        "--prometheus-url", type=URL, help="also check that it scrapes the predictor"
    )
    return top


def run(ctx: Context, args: argparse.Namespace) -> int:
    code = _dispatch(ctx, args)
    if args.dry_run and args.command != "status":
        print("dry run: nothing was changed")
    return code


def _dispatch(ctx: Context, args: argparse.Namespace) -> int:
    if args.command == "status":
        print(render(report(ctx.service), args.output))
        return 0
    if args.command == "deploy":
        return deploy(ctx, args.image, args.model_version, args.release, _warm_start(args))
    if args.command == "rollback":
        return rollback(ctx)
    settings = gate_settings(args)
    if args.command == "promote":
        return promote(ctx, settings)
    return shift(ctx, args.to, args.steps, settings)


def _warm_start(args: argparse.Namespace) -> WarmStart | None:
    """deploy's sizing of green, when it is given a Prometheus to read blue's traffic from."""
    if not args.prometheus_url:
        if args.pod_rps is not None:
            raise RolloutError("--pod-rps sizes green from blue's traffic: give --prometheus-url")
        return None
    return WarmStart(args.prometheus_url, args.pod_rps, args.capacity, args.first_step)


@contextmanager
def sigterm_as_ctrl_c() -> Iterator[None]:
    """For the block, SIGTERM raises ``Terminated`` (a KeyboardInterrupt) as Ctrl-C raises
    KeyboardInterrupt: the lease is released, the split read back, a restore finished or named.
    Only the main thread receives signals; run elsewhere (a test's thread) it changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None, clock: Any = time) -> int:
    """Run one command; ``clock`` (``sleep``, ``monotonic``) is what every wait runs on."""
    args = parser().parse_args(argv)
    try:
        with sigterm_as_ctrl_c(), connect(args.kubeconfig, args.context) as api_client:
            calls = Calls(clock, args.request_timeout)
            identity = holder_identity()
            service = KnativeService(api_client, args.namespace, args.service, calls, identity)
            if args.command == "doctor":
                url = args.prometheus_url
                prometheus = Prometheus(url, args.request_timeout) if url else None
                return doctor(Cluster(api_client, service), prometheus)
            ctx = Context(service, clock, getattr(args, "timeout", 0.0), args.dry_run)
            try:
                if args.command == "status" or args.dry_run:
                    return run(ctx, args)  # writes nothing, so takes no lease
                lease = Lease(api_client, args.namespace, args.service, calls, identity)
                with guarded(service, lease, wins=args.command == "rollback") as guard:
                    return run(replace(ctx, guard=guard), args)
            except KeyboardInterrupt as exc:
                how = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
                now = f"{how}: traffic is now {read_now(service)[1]}"
                go_on = "run `shift` again to go on, or `rollback`"
                raise Interrupted(f"{now}; {go_on}", exc) from None
    except GateFailed as exc:
        print(exc, file=sys.stderr)
        return 1
    except RolloutError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Interrupted as exc:
        print(exc, file=sys.stderr)
        return exc.code


if __name__ == "__main__":
    sys.exit(main())
