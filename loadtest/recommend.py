"""Knative settings from a measured capacity curve: `python -m loadtest.recommend`.

Every candidate setting runs through the simulator (loadtest/simulate.py, Knative's autoscaler
modelled) on each load shape at the peak rate. A candidate meets the SLO when the p99 of every
shape, cold requests included, stays under it; the cheapest per 1,000 predictions wins (pod-
seconds at the node price of loadtest/node-prices.json, the pods a node holds). Writes, under
--out: the table (recommend.md), pods and p99 over time (recommend.png), the annotations as a
kustomize patch (autoscaling-patch.yaml) and the same as `kn service update` flags (kn.txt).
"""

import argparse
import json
import math
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from knative.traffic.plan import parse_go_duration
from loadtest.curve import Capacity
from loadtest.kpa import TARGET_MIN
from loadtest.simulate import Run, Settings, simulate

REPO = Path(__file__).resolve().parent.parent
SERVICE = REPO / "knative" / "base" / "service.yaml"
CLUSTER_AUTOSCALER = REPO / "cluster" / "config-autoscaler.yaml"
AS = "autoscaling.knative.dev/"
SHAPES = ("steady", "ramp", "spike", "coldstart")
QUEUE_PROXY_CPU = 0.025  # knative/serving pkg/deployment/config.go:96,119-126: 25m by default
UTILIZATIONS = (0.5, 0.7, 0.9)
TIE = 0.01  # costs within 1 % of the cheapest count as equal: then fewer cold requests win
# The simulated p99 must stay within 80 % of the SLO: the model steps whole seconds, and the
# curve was measured without the network, the activator and the queue-proxy in front of the pod.
SLO_HEADROOM = 0.8
DELAYS_S = (0.0, 60.0)
BRIDGE_S = (
    60.0  # a retention that bridges the coldstart pause (inactive 60 s after the last request)
)
# knative/README.md: the last pod stays 10 minutes so that the smoke test warms green for the
# first shift and a rollback soon after promotion finds blue warm; the shapes do not see that.
ROLLOUT_RETENTION = "10m"
MAX_SCALE_HEADROOM = 1.25
# The most containerConcurrency Knative's webhook accepts: config-defaults'
# container-concurrency-max-limit, 1000 unless the cluster raises it (ours does not; knative/serving
# knative-v1.23.0 pkg/apis/config/defaults.go:66-68, checked at 159).
CONTAINER_CONCURRENCY_MAX = 1000
DESIGN_PEAK_RPS = 10_000.0  # the peak knative/base/service.yaml is sized for


class UsageError(ValueError):
    """Input the recommender cannot use; the message names it."""


@dataclass(frozen=True)
class Node:
    name: str
    vcpu: float
    memory_gib: float
    usd_per_hour: float
    source: str

    def pods(self, cpu: float, memory_gib: float, reserved_cpu: float) -> int:
        """Pods of this size that one node holds beside its own daemons."""
        return max(
            1, math.floor(min((self.vcpu - reserved_cpu) / cpu, self.memory_gib / memory_gib))
        )


def load_node(path: Path, name: str | None, price: float | None) -> Node:
    data = json.loads(path.read_text())
    name = name or data["default"]
    if name not in data["nodes"]:
        raise UsageError(f"--node {name!r} is not in {path.name}: {', '.join(data['nodes'])}")
    node = data["nodes"][name]
    source = f"{data['source']} ({data['region']}, {data['terms']}), read {data['read']}"
    if price is not None:
        source = "--node-price-per-hour"
    return Node(name, node["vcpu"], node["memory_gib"], price or node["usd_per_hour"], source)


def cpu(quantity: str) -> float:
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def gib(quantity: str) -> float:
    units = {"Mi": 1 / 1024, "Gi": 1.0, "M": 1e6 / 2**30, "G": 1e9 / 2**30}
    for unit, factor in units.items():
        if quantity.endswith(unit):
            return float(quantity[: -len(unit)]) * factor
    return float(quantity) / 2**30


@dataclass
class Outcome:
    settings: Settings
    runs: dict[str, Run]
    usd_per_pod_hour: float

    @property
    def p99_ms(self) -> float:
        return max(run.p99_ms(cold=True) for run in self.runs.values())  # users wait for those too

    @property
    def pod_seconds(self) -> float:
        return sum(run.pod_seconds for run in self.runs.values())

    @property
    def cold(self) -> float:
        return sum(run.cold for run in self.runs.values())

    @property
    def usd_per_1000(self) -> float:
        served = sum(run.served for run in self.runs.values())
        return self.pod_seconds / 3600 * self.usd_per_pod_hour / served * 1000

    def meets(self, slo_p99_ms: float) -> bool:
        return self.p99_ms <= SLO_HEADROOM * slo_p99_ms


def candidates(capacity: Capacity, peak_rps: float, max_scale_limit: int,
               retention_s: float = 0.0) -> list[Settings]:  # fmt: skip
    """containerConcurrency at the curve's limit within the SLO; each measured concurrency
    within the SLO as target, at each utilization, with and without a scale-down delay; scale
    to zero after `retention_s`. max-scale: the pods that carry the peak at the target, with a
    quarter to spare, at most the cluster's limit."""
    cc = min(capacity.max_concurrency_within_slo, CONTAINER_CONCURRENCY_MAX)
    targets = [x.concurrency for x in capacity.levels
               if x.concurrency <= cc and x.p99_ms <= capacity.slo_p99_ms]  # fmt: skip
    out = []
    for target in targets:
        for utilization in UTILIZATIONS:
            per_pod = capacity.rps_at(max(TARGET_MIN, target * utilization))
            need = math.ceil(MAX_SCALE_HEADROOM * peak_rps / per_pod)
            max_scale = min(max_scale_limit, need) if max_scale_limit else need
            for delay in DELAYS_S:
                out.append(Settings(cc, int(target), utilization, 0, max_scale, 1, delay,
                                    retention_s))  # fmt: skip
    return out


def keep_warm(settings: Settings) -> list[Settings]:
    """The same settings meeting the pause warm: the last pod retained, or a minimum of one."""
    variants = [
        replace(settings, retention_s=max(BRIDGE_S, settings.retention_s)),
        replace(settings, min_scale=1, initial_scale=max(1, settings.initial_scale)),
    ]
    return [v for v in variants if v != settings]  # fmt: skip


def provisioned(settings: Settings, capacity: Capacity, peak_rps: float) -> Settings:
    """The same settings with min-scale (and initial-scale) at the pods the peak needs at the
    target: for cold starts too slow to scale out in time, as with a new node each time."""
    per_pod = capacity.rps_at(max(TARGET_MIN, settings.target * settings.utilization))
    pods = min(settings.max_scale, math.ceil(peak_rps / per_pod))
    return replace(settings, min_scale=pods, initial_scale=pods)


def evaluate(settings: Settings, capacity: Capacity, peak_rps: float, cold_start_s: float,
             usd_per_pod_hour: float, shapes: tuple[str, ...] = SHAPES) -> Outcome:  # fmt: skip
    runs = {shape: simulate(shape, peak_rps, capacity, settings, cold_start_s) for shape in shapes}
    return Outcome(settings, runs, usd_per_pod_hour)


def current_settings(service: Path = SERVICE) -> Settings:
    """The settings knative/base/service.yaml holds now."""
    doc = yaml.safe_load(service.read_text())
    template = doc["spec"]["template"]
    notes = template["metadata"]["annotations"]

    def seconds(key: str) -> float:
        return parse_go_duration(notes.get(AS + key, "0s")) or 0.0

    return Settings(
        container_concurrency=int(template["spec"].get("containerConcurrency", 0)),
        target=float(notes[AS + "target"]),
        utilization=float(notes.get(AS + "target-utilization-percentage", 70)) / 100,
        min_scale=int(notes.get(AS + "min-scale", 0)),
        max_scale=int(notes.get(AS + "max-scale", 0)),
        initial_scale=int(notes.get(AS + "initial-scale", 1)),
        scale_down_delay_s=seconds("scale-down-delay"),
        retention_s=seconds("scale-to-zero-pod-retention-period"),
    )


def cluster_max_scale_limit(path: Path = CLUSTER_AUTOSCALER) -> int:
    data = yaml.safe_load(path.read_text())["data"]
    return int(data.get("max-scale-limit", 0))


def go_duration(seconds: float) -> str:
    if seconds and seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{int(seconds)}s"


def annotations(s: Settings) -> dict[str, str]:
    return {
        AS + "target": str(int(s.target)),
        AS + "target-utilization-percentage": str(round(s.utilization * 100)),
        AS + "min-scale": str(s.min_scale),
        AS + "max-scale": str(s.max_scale),
        AS + "initial-scale": str(s.initial_scale),
        AS + "scale-down-delay": go_duration(s.scale_down_delay_s),
        AS + "scale-to-zero-pod-retention-period": go_duration(s.retention_s),
    }


def kustomize_patch(s: Settings) -> str:
    patch = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": "house-price", "namespace": "house-price"},
        "spec": {"template": {"metadata": {"annotations": annotations(s)},
                              "spec": {"containerConcurrency": s.container_concurrency}}},
    }  # fmt: skip
    return yaml.safe_dump(patch, sort_keys=False)


def kn_command(s: Settings) -> str:
    """knative/client knative-v1.23.0 pkg/commands/service/configuration_edit_flags.go:94-186;
    scale-down delay and retention have no flag of their own."""
    return " ".join([
        "kn service update house-price -n house-price",
        f"--concurrency-limit {s.container_concurrency}",
        f"--scale-target {int(s.target)}",
        f"--scale-utilization {round(s.utilization * 100)}",
        f"--scale-min {s.min_scale} --scale-max {s.max_scale} --scale-init {s.initial_scale}",
        f"--annotation-revision {AS}scale-down-delay={go_duration(s.scale_down_delay_s)}",
        f"--annotation-revision {AS}scale-to-zero-pod-retention-period="
        f"{go_duration(s.retention_s)}",
    ])  # fmt: skip


def describe(s: Settings) -> str:
    return (f"cc {s.container_concurrency}, target {int(s.target)} at {s.utilization:.0%}, "
            f"min {s.min_scale}, max {s.max_scale}, delay {go_duration(s.scale_down_delay_s)}, "
            f"retention {go_duration(s.retention_s)}")  # fmt: skip


def table(rows: list[tuple[str, Outcome]], slo_p99_ms: float) -> str:
    head = ("| option | settings | p99 ms per shape (" + ", ".join(SHAPES) + ") | max pods | "
            "pod-s | cold requests | $ per 1,000 predictions | SLO |")  # fmt: skip
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for label, o in rows:
        p99s = " / ".join(f"{o.runs[shape].p99_ms(cold=True):.0f}" for shape in o.runs)
        max_pods = max(run.max_pods for run in o.runs.values())
        lines.append(
            f"| {label} | {describe(o.settings)} | {p99s} | {max_pods} | {o.pod_seconds:,.0f} | "
            f"{o.cold:,.0f} | {o.usd_per_1000:.7f} | {'met' if o.meets(slo_p99_ms) else 'BREACH'} |"
        )
    return "\n".join(lines)


def plot(rows: list[tuple[str, Outcome]], slo_p99_ms: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shapes = list(rows[0][1].runs)
    fig, axes = plt.subplots(2, len(shapes), figsize=(4.5 * len(shapes), 7), squeeze=False)
    for column, shape in enumerate(shapes):
        pods_ax, p99_ax = axes[0][column], axes[1][column]
        for row, (name, outcome) in enumerate(rows):
            intervals = outcome.runs[shape].intervals
            t = [x.t_s for x in intervals]
            style = {"label": name, "linewidth": 3 if row == 0 else 1.2, "alpha": 0.8}
            pods_ax.step(t, [x.pods for x in intervals], where="post", **style)
            p99_ax.plot(t, [x.p99_ms if x.p99_ms is not None else float("nan")
                            for x in intervals], **style)  # fmt: skip
        rate_ax = pods_ax.twinx()
        rate_ax.fill_between(t, [x.rate for x in intervals], color="grey", alpha=0.15)
        rate_ax.set_ylabel("req/s offered", color="grey")
        rate_ax.set_ylim(bottom=0)
        pods_ax.set_title(shape)
        pods_ax.set_ylabel("pods")
        pods_ax.set_ylim(bottom=0)
        p99_ax.axhline(slo_p99_ms, color="red", linestyle="--", linewidth=1, label="SLO")
        p99_ax.set_yscale("log")
        p99_ax.set_ylabel("p99 ms (per second)")
        p99_ax.set_xlabel("seconds")
    axes[0][0].legend(loc="upper left", fontsize="small")
    axes[1][0].legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


@dataclass(frozen=True)
class Recommendation:
    best: Outcome
    compared: list[tuple[str, Outcome]]  # the rows of the table, the best first


def recommend(capacity: Capacity, peak_rps: float, slo_p99_ms: float, cold_start_s: float,
              usd_per_pod_hour: float, max_scale_limit: int, retention_s: float = 0.0,
              current: Settings | None = None) -> Recommendation:  # fmt: skip
    """Two rounds: target, utilization and delay, scaling to zero after `retention_s` (or, if
    none meets the SLO so, holding the peak's pods); then the winner kept warm over the pause.
    Of the candidates meeting the SLO, the cheapest; among those within TIE of it, the one with
    the fewest cold requests."""
    capacity = replace(capacity, slo_p99_ms=slo_p99_ms)

    def run(s: Settings) -> Outcome:
        return evaluate(s, capacity, peak_rps, cold_start_s, usd_per_pod_hour)

    def pick(outcomes: list[Outcome]) -> Outcome | None:
        meeting = [o for o in outcomes if o.meets(slo_p99_ms)]
        if not meeting:
            return None
        cheapest = min(o.usd_per_1000 for o in meeting)
        near = [o for o in meeting if o.usd_per_1000 <= cheapest * (1 + TIE)]
        return min(near, key=lambda o: (o.cold, o.usd_per_1000, o.p99_ms))

    pool = candidates(capacity, peak_rps, max_scale_limit, retention_s)
    for prepare in (lambda s: s, lambda s: provisioned(s, capacity, peak_rps)):
        first = [run(prepare(s)) for s in pool]
        by_delay = [pick([o for o in first if o.settings.scale_down_delay_s == d])
                    for d in DELAYS_S]  # fmt: skip
        winner = pick([o for o in by_delay if o])
        if winner is not None:  # else cold starts are too slow for the shapes: hold the peak
            break
    if winner is None:
        raise UsageError(f"no candidate meets p99 <= {slo_p99_ms:.0f} ms at {peak_rps:.0f} "
                         f"req/s within max-scale {max_scale_limit}")  # fmt: skip
    warm = [run(s) for s in keep_warm(winner.settings)]
    best = pick([winner, *warm])
    rows = [("recommended", best)]
    named = [("scaled to zero first", winner)]
    named += [(f"kept warm: min {o.settings.min_scale}, retention "
               f"{go_duration(o.settings.retention_s)}", o) for o in warm]  # fmt: skip
    named += [
        (f"best with delay {go_duration(d)}", o) for d, o in zip(DELAYS_S, by_delay, strict=True)
    ]
    for name, o in named:
        if o and all(o is not shown for _, shown in rows):
            rows.append((name, o))
    if current is not None:
        rows.append(("service.yaml today", run(current)))
    return Recommendation(best, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.recommend", description=__doc__)
    parser.add_argument(
        "--peak-rps",
        type=float,
        default=DESIGN_PEAK_RPS,
        help="the peak rate, req/s (default: the one service.yaml is sized for)",
    )
    parser.add_argument(
        "--slo-p99-ms",
        type=float,
        help="p99 to meet (default: the curve's, from loadtest/locust.conf)",
    )
    parser.add_argument(
        "--capacity", type=Path, default=REPO / "loadtest" / "capacity-measured.json"
    )
    parser.add_argument("--prices", type=Path, default=REPO / "loadtest" / "node-prices.json")
    parser.add_argument("--node", help="instance type in the prices file (default: its default)")
    parser.add_argument("--node-price-per-hour", type=float, help="USD, instead of the file's")
    parser.add_argument(
        "--node-reserved-cpu",
        type=float,
        default=0.3,
        help="vCPU a node keeps for the kubelet and its daemons (cluster/README.md)",
    )
    parser.add_argument(
        "--pod-start-s",
        type=float,
        default=0.83,
        help="container start to first answer (docs/benchmarks.md: 0.83 s)",
    )
    parser.add_argument(
        "--node-start-s",
        type=float,
        default=0.0,
        help="add a new node's start for every cold start (Karpenter: about 60)",
    )
    parser.add_argument(
        "--image-pull-s",
        type=float,
        default=0.0,
        help="add the image pull on a new node (about 15 for ~120 MB from ECR)",
    )
    parser.add_argument(
        "--min-retention",
        default=ROLLOUT_RETENTION,
        help="keep the last pod at least this long (Go duration; default 10m, "
        "what the rollout needs: knative/README.md); 0s to let the shapes "
        "alone decide",
    )
    parser.add_argument("--out", type=Path, default=REPO / "reports" / "recommend")
    args = parser.parse_args(argv)  # fmt: skip
    try:
        if args.peak_rps <= 0:
            raise UsageError("--peak-rps must be > 0")
        if not args.capacity.is_file():
            raise UsageError(f"--capacity {args.capacity}: no such file (make capacity writes it)")
        capacity = Capacity.load(args.capacity)
        slo = args.slo_p99_ms or capacity.slo_p99_ms
        if slo <= 0:
            raise UsageError("--slo-p99-ms must be > 0")
        retention = parse_go_duration(args.min_retention)
        if retention is None or not 0 <= retention <= 3600:
            raise UsageError("--min-retention must be a Go duration from 0s to 1h, like 10m")
        node = load_node(args.prices, args.node, args.node_price_per_hour)
        pod_cpu = cpu(capacity.resources["cpu_request"]) + QUEUE_PROXY_CPU
        per_node = node.pods(pod_cpu, gib(capacity.resources["memory"]), args.node_reserved_cpu)
        cold_start = args.pod_start_s + args.node_start_s + args.image_pull_s
        result = recommend(capacity, args.peak_rps, slo, cold_start, node.usd_per_hour / per_node,
                           cluster_max_scale_limit(), retention, current_settings())  # fmt: skip
    except (UsageError, ValueError, KeyError) as exc:
        print(f"recommend: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    best = result.best.settings
    summary = "\n\n".join([
        f"Peak {args.peak_rps:,.0f} req/s, SLO p99 {slo:.0f} ms, cold start {cold_start:.2f} s; "
        f"curve {args.capacity.name} (measured {capacity.measured}, {capacity.resources}); "
        f"node {node.name} at ${node.usd_per_hour}/h holds {per_node} pods ({node.source}).",
        table(result.compared, slo),
        "kustomize patch (autoscaling-patch.yaml):\n\n" + kustomize_patch(best),
        "kn:\n\n" + kn_command(best),
    ])  # fmt: skip
    (args.out / "recommend.md").write_text(summary + "\n")
    (args.out / "autoscaling-patch.yaml").write_text(kustomize_patch(best))
    (args.out / "kn.txt").write_text(kn_command(best) + "\n")
    plot(result.compared, slo, args.out / "recommend.png")
    print(summary)
    print(f"\nwritten: {args.out}/recommend.md, recommend.png, autoscaling-patch.yaml, kn.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
