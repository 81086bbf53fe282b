"""Per-pod capacity: a closed-loop concurrency sweep of the real image under the pod's resources.

``make capacity`` (``python -m loadtest.capacity``) reads the predictor container's CPU and memory
requests and limits from ``knative/base/service.yaml``, runs the image with podman under them
(``image/run.sh``), the server on its own cores and wrk on another (``taskset``), and sweeps
concurrency: at each level wrk keeps N connections busy with single-row ``POST /predict`` for a
bounded time. Per level: throughput, p50/p99, errors, the CPU the server and wrk used, and the
CFS throttling counters of the container's cgroup (``cpu.stat``). It finds the highest
concurrency whose p99 stays within the SLO of ``loadtest/locust.conf``, prints a table and writes
the curve as JSON. With ``--url`` the same sweep loads any server (e.g. a revision's tag URL
pinned to one pod), without the cgroup columns, which only a local container has.
"""

from __future__ import annotations

import argparse
import configparser
import datetime
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import median_low

import requests
import yaml

from loadtest.local_server import REPO, free_port

MANIFEST = REPO / "knative" / "base" / "service.yaml"
LOCUST_CONF = REPO / "loadtest" / "locust.conf"
ROW = json.loads((REPO / "model_data" / "sample-row.json").read_text())
LEVELS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
# Lua for wrk: the single-row POST, and at the end one JSON line with exact figures (microseconds)
# instead of wrk's rounded text report.
WRK_SCRIPT = """wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nCAPACITY {{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


@dataclass(frozen=True)
class Resources:
    """The container's requests and limits as the manifest writes them (None where unset)."""

    cpu_request: str | None
    cpu_limit: str | None
    memory_request: str | None
    memory_limit: str | None

    @property
    def static_cpus(self) -> int | None:
        """Whole CPUs the kubelet's static CPU manager would pin the container to, if any.

        It pins the containers of a Guaranteed pod (every request equal to its limit) that ask
        for whole CPUs; every other container runs on the node's shared cores. (On Knative the
        pod is Guaranteed only if the queue-proxy's requests equal its limits too.)
        """
        if self.cpu_limit is None or self.memory_limit is None:
            return None
        cores, memory = cpu_cores(self.cpu_limit), memory_bytes(self.memory_limit)
        if self.cpu_request is not None and cpu_cores(self.cpu_request) != cores:
            return None
        if self.memory_request is not None and memory_bytes(self.memory_request) != memory:
            return None
        return int(cores) if cores == int(cores) and cores >= 1 else None

    @property
    def server_cpus(self) -> str:
        """The cores the container gets here: the static CPU manager's whole cores, else one
        core of the shared pool (core 0), leaving the others to the load generator."""
        cpus = self.static_cpus or 1
        return f"0-{cpus - 1}" if cpus > 1 else "0"

    def podman_options(self, server_cpus: str | None = None) -> list[str]:
        """podman run options that give a container these resources, as the kubelet does.

        A CPU limit is a CFS quota (``--cpus``), a CPU request a cgroup weight (``--cpu-shares``,
        1024 per CPU), the memory limit ``--memory``; a memory request only places the pod. The
        container runs on ``server_cpus`` (``--cpuset-cpus``; default ``self.server_cpus``).
        """
        options = []
        if self.cpu_limit is not None:
            options += ["--cpus", f"{cpu_cores(self.cpu_limit):g}"]
        if self.cpu_request is not None:
            options += ["--cpu-shares", str(max(2, round(cpu_cores(self.cpu_request) * 1024)))]
        if self.memory_limit is not None:
            options += ["--memory", str(memory_bytes(self.memory_limit))]
        return [*options, "--cpuset-cpus", server_cpus or self.server_cpus]


@dataclass(frozen=True)
class Throttling:
    """A cgroup's CPU counters: CFS periods, throttled periods and time, CPU used (seconds)."""

    periods: int
    throttled_periods: int
    throttled_s: float
    usage_s: float

    def __sub__(self, before: Throttling) -> Throttling:
        return Throttling(
            self.periods - before.periods,
            self.throttled_periods - before.throttled_periods,
            self.throttled_s - before.throttled_s,
            self.usage_s - before.usage_s,
        )


@dataclass(frozen=True)
class Level:
    """One concurrency level of the sweep; the cgroup fields are None without a container."""

    concurrency: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    throttled_periods: int | None
    periods: int | None
    throttled_s: float | None
    server_cpu: float | None  # cores the container used on average
    loadgen_cpu: float  # cores wrk used on average: near 1.0 would make wrk the bottleneck


def cpu_cores(quantity: str) -> float:
    """A Kubernetes CPU quantity ("1", "1.5", "500m") in CPUs."""
    text = str(quantity)
    return int(text[:-1]) / 1000 if text.endswith("m") else float(text)


def memory_bytes(quantity: str) -> int:
    """A Kubernetes memory quantity ("512Mi", "1G", "1048576") in bytes."""
    text = str(quantity)
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6,
             "G": 10**9, "T": 10**12}  # fmt: skip
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor)
    return int(text)


def read_resources(manifest: Path = MANIFEST) -> Resources:
    """The first container's resources in a Knative Service manifest."""
    service = yaml.safe_load(manifest.read_text())
    resources = service["spec"]["template"]["spec"]["containers"][0].get("resources", {})
    requests_, limits = resources.get("requests", {}), resources.get("limits", {})

    def text(value: object) -> str | None:
        return None if value is None else str(value)

    return Resources(
        cpu_request=text(requests_.get("cpu")),
        cpu_limit=text(limits.get("cpu")),
        memory_request=text(requests_.get("memory")),
        memory_limit=text(limits.get("memory")),
    )


def slo_p99_ms(conf: Path = LOCUST_CONF) -> float:
    """The load test's p99 SLO (``slo-p99-ms`` in locust.conf, which has no section header)."""
    parser = configparser.ConfigParser()
    parser.read_string("[locust]\n" + conf.read_text())
    return parser.getfloat("locust", "slo-p99-ms")


def parse_stat(text: str) -> dict[str, int]:
    """A cgroup ``*.stat`` file: one key and number a line."""
    return {key: int(value) for key, value in (line.split() for line in text.splitlines() if line)}


def cgroup_folders(pid: int, root: Path = Path("/sys/fs/cgroup")) -> tuple[dict[str, Path], Path]:
    """A process's cgroup folder under each cgroup v1 controller, and its v2 (unified) folder.

    Use a v1 controller where it is mounted: hosts with hybrid cgroups list the v2 hierarchy
    too, without the controllers.
    """
    v1: dict[str, Path] = {}
    unified = root
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            unified = root / path.lstrip("/")
        for name in controllers.split(","):
            v1[name] = root / controllers / path.lstrip("/")
    return v1, unified


def cgroup_cpu_dirs(pid: int, root: Path = Path("/sys/fs/cgroup")) -> tuple[Path, Path]:
    """The cgroup folders holding ``cpu.stat`` and the CPU usage of a process."""
    v1, unified = cgroup_folders(pid, root)
    if "cpu" in v1 and "cpuacct" in v1:
        return v1["cpu"], v1["cpuacct"]
    return unified, unified


def working_set_bytes(pid: int, root: Path = Path("/sys/fs/cgroup")) -> int:
    """The memory of a process's cgroup as the kubelet counts it for eviction and ``kubectl
    top``: usage less the file pages not recently used, which the kernel takes back before it
    runs out (cAdvisor's working set)."""
    v1, unified = cgroup_folders(pid, root)
    if "memory" in v1:
        folder, usage, inactive = v1["memory"], "memory.usage_in_bytes", "total_inactive_file"
    else:
        folder, usage, inactive = unified, "memory.current", "inactive_file"
    stat = parse_stat((folder / "memory.stat").read_text())
    return int((folder / usage).read_text()) - stat[inactive]


def read_throttling(cpu_dir: Path, cpuacct_dir: Path) -> Throttling:
    """cgroup v2 ``cpu.stat`` (usec) or v1 ``cpu.stat`` (ns) with ``cpuacct.usage``."""
    stat = parse_stat((cpu_dir / "cpu.stat").read_text())
    if "throttled_usec" in stat or "usage_usec" in stat:
        usage, throttled = stat["usage_usec"] / 1e6, stat.get("throttled_usec", 0) / 1e6
    else:
        usage = int((cpuacct_dir / "cpuacct.usage").read_text()) / 1e9
        throttled = stat["throttled_time"] / 1e9
    return Throttling(stat.get("nr_periods", 0), stat.get("nr_throttled", 0), throttled, usage)


def parse_wrk(output: str) -> dict[str, int]:
    """The figures the Lua ``done`` hook printed, from wrk's output."""
    for line in output.splitlines():
        if line.startswith("CAPACITY "):
            return json.loads(line.removeprefix("CAPACITY "))
    raise RuntimeError(f"wrk printed no figures:\n{output}")


def run_wrk(
    url: str, concurrency: int, seconds: int, timeout_s: float, load_cpus: str | None
) -> tuple[dict[str, int], float]:
    """One closed-loop wrk run: its figures and the CPU seconds wrk itself used."""
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "post.lua"
        script.write_text(WRK_SCRIPT.format(body=json.dumps(json.dumps([ROW]))))
        pin = ["taskset", "-c", load_cpus] if load_cpus else []
        command = [*pin, "wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s",
                   f"--timeout={timeout_s:g}s", "-s", str(script), f"{url}/predict"]  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + timeout_s + 30
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr}{result.stdout}")
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return parse_wrk(result.stdout), used


@dataclass(frozen=True)
class Sweep:
    """Closed-loop load on ``url``: wrk on ``load_cpus``, each level ``runs`` times for
    ``seconds``; the container's counters too when its cgroup is given."""

    url: str
    seconds: int  # whole seconds: wrk takes no fraction
    slo_ms: float
    load_cpus: str | None = None
    cgroup: tuple[Path, Path] | None = None
    runs: int = 1

    @property
    def timeout_s(self) -> float:
        """wrk's per-request timeout: well past the SLO, so that slow answers count as slow."""
        return max(2.0, 4 * self.slo_ms / 1000)

    def once(self, concurrency: int) -> Level:
        before = read_throttling(*self.cgroup) if self.cgroup else None
        figures, loadgen_s = run_wrk(
            self.url, concurrency, self.seconds, self.timeout_s, self.load_cpus
        )
        delta = read_throttling(*self.cgroup) - before if self.cgroup and before else None
        elapsed = figures["duration_us"] / 1e6
        return Level(
            concurrency=concurrency,
            rps=round(figures["requests"] / elapsed, 1),
            p50_ms=round(figures["p50_us"] / 1000, 3),
            p99_ms=round(figures["p99_us"] / 1000, 3),
            errors=sum(figures[key] for key in ("connect", "read", "write", "status", "timeout")),
            throttled_periods=delta.throttled_periods if delta else None,
            periods=delta.periods if delta else None,
            throttled_s=round(delta.throttled_s, 3) if delta else None,
            server_cpu=round(delta.usage_s / elapsed, 2) if delta else None,
            loadgen_cpu=round(loadgen_s / elapsed, 2),
        )

    def level(self, concurrency: int) -> Level:
        """The (low) median of each figure over ``runs`` runs; the errors of all of them."""
        runs = [self.once(concurrency) for _ in range(self.runs)]
        figures = {}
        for name, value in asdict(runs[0]).items():
            values = [getattr(run, name) for run in runs]
            figures[name] = (
                value if value is None else sum(values) if name == "errors" else median_low(values)
            )
        level = Level(**figures)
        print(row(level), flush=True)
        return level

    def run(self, levels: Sequence[int]) -> list[Level]:
        """Each level in turn after a short warm-up, up to the first one past the SLO; then
        levels halfway between it and the last one within, until those are within 1/8."""
        self.once(levels[0])  # warm-up, not counted
        measured: list[Level] = []
        for concurrency in levels:
            measured.append(self.level(concurrency))
            if not within(measured[-1], self.slo_ms):
                break
        crossed = not within(measured[-1], self.slo_ms)
        low, high = max_within_slo(measured, self.slo_ms), measured[-1].concurrency
        while crossed and low is not None and high - low > low / 8:
            level = self.level((low + high) // 2)
            measured.append(level)
            if within(level, self.slo_ms):
                low = level.concurrency
            else:
                high = level.concurrency
        return sorted(measured, key=lambda level: level.concurrency)


def within(level: Level, slo_ms: float) -> bool:
    return level.p99_ms <= slo_ms and level.errors == 0


def max_within_slo(levels: Sequence[Level], slo_ms: float) -> int | None:
    """The highest concurrency below the lowest one past the SLO (or with errors)."""
    past = [level.concurrency for level in levels if not within(level, slo_ms)]
    below = [level.concurrency for level in levels if level.concurrency < min(past, default=2**31)]
    return max(below, default=None)


HEADER = (
    f"{'conc':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} "
    f"{'throttled/periods':>17} {'thr. s':>6} {'server':>6} {'wrk':>5}"
)


def row(level: Level) -> str:
    if level.periods is None:
        throttled, seconds, server = "-", "-", "-"
    else:
        throttled = f"{level.throttled_periods}/{level.periods}"
        seconds, server = f"{level.throttled_s:.2f}", f"{level.server_cpu:.2f}"
    return (
        f"{level.concurrency:>5} {level.rps:>9,.0f} {level.p50_ms:>8.2f} {level.p99_ms:>8.2f} "
        f"{level.errors:>6} {throttled:>17} {seconds:>6} {server:>6} {level.loadgen_cpu:>5.2f}"
    )


def podman(*args: str, timeout: float = 60) -> str:
    result = subprocess.run(
        [str(REPO / "image" / "podman.sh"), *args], capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"podman {args[0]} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def wait_until_predicting(url: str, timeout: float = 60) -> None:
    """POST /predict until a 200, within ``timeout`` seconds as a whole."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.post(f"{url}/predict", json=[ROW], timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} gave no prediction within {timeout:g} s")


@contextmanager
def container(
    image: str, options: Sequence[str], env: Sequence[str] = ()
) -> Iterator[tuple[str, tuple[Path, Path]]]:
    """The image run by image/run.sh with ``options`` on a free port: (URL, its cgroup dirs)."""
    name = f"house-price-capacity-{uuid.uuid4().hex[:8]}"
    port = free_port()
    extra = [option for pair in env for option in ("--env", pair)]
    command = [str(REPO / "image" / "run.sh"), image, "--detach", "--name", name, *options, *extra]
    started = subprocess.run(
        command, env={**os.environ, "PORT": str(port)}, capture_output=True, text=True, timeout=60
    )
    if started.returncode != 0:
        raise RuntimeError(f"cannot run {image} (make image builds it): {started.stderr.strip()}")
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_predicting(url)
        pid = int(podman("inspect", "--format", "{{.State.Pid}}", name))
        yield url, cgroup_cpu_dirs(pid)
    finally:
        podman("rm", "--force", "--time", "5", name)


def load_cpus_default() -> str | None:
    """The last core for wrk, if the machine has more than one."""
    cores = sorted(os.sched_getaffinity(0))
    return str(cores[-1]) if len(cores) > 1 else None


def report(
    target: str,
    method: str,
    resources: Resources,
    options: Sequence[str],
    slo_ms: float,
    levels: Sequence[Level],
) -> dict[str, object]:
    """The curve as the JSON file holds it (loadtest/README.md)."""
    return {
        "measured": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "method": method,
        "target": target,
        "resources": {
            "cpu_request": resources.cpu_request,
            "cpu_limit": resources.cpu_limit,
            "memory": resources.memory_limit,
            "memory_request": resources.memory_request,
            "static_cpus": resources.static_cpus,
            "podman": " ".join(options),
        },
        "slo_p99_ms": slo_ms,
        "levels": [asdict(level) for level in levels],
        "max_concurrency_within_slo": max_within_slo(levels, slo_ms),
    }


def positive(text: str) -> int:
    """A whole number above 0, or a usage error naming it."""
    if not text.strip().isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"expected a whole number above 0, got {text!r}")
    return int(text)


def concurrency_levels(text: str) -> list[int]:
    """Comma-separated concurrency levels."""
    return [positive(each) for each in text.split(",")]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m loadtest.capacity", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--url", help="sweep this server instead of running the image")
    image = os.environ.get("CAPACITY_IMAGE", "localhost/house-price:dev")
    parser.add_argument("--image", default=image, help="the image to run (CAPACITY_IMAGE)")
    parser.add_argument(
        "--manifest", type=Path, default=MANIFEST, help="where the resources are read"
    )
    parser.add_argument("--server-cpus", help="cores the container may use (--cpuset-cpus); "
                        "default: core 0, or the static CPU manager's cores")  # fmt: skip
    parser.add_argument("--load-cpus", default=load_cpus_default(), help="cores for wrk (taskset)")
    parser.add_argument("--cpu-limit", help='instead of the manifest\'s ("none": no limit)')
    parser.add_argument("--cpu-request", help="instead of the manifest's")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the container")
    parser.add_argument("--levels", type=concurrency_levels, default=list(LEVELS),
                        help="concurrency levels, comma-separated")  # fmt: skip
    parser.add_argument("--seconds", type=positive,
                        default=positive(os.environ.get("CAPACITY_SECONDS", "5")),
                        help="length of each level (CAPACITY_SECONDS)")  # fmt: skip
    parser.add_argument("--runs", type=positive, default=1, help="runs per level (median)")
    parser.add_argument("--json", type=Path, default=REPO / "reports" / "capacity.json",
                        help="where the curve is written")  # fmt: skip
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("the capacity sweep needs wrk: apt-get install wrk")
    declared = read_resources(args.manifest)
    overrides = {
        key: None if value == "none" else value
        for key, value in (("cpu_limit", args.cpu_limit), ("cpu_request", args.cpu_request))
        if value is not None
    }
    resources = Resources(**{**asdict(declared), **overrides})
    slo_ms = slo_p99_ms()
    wrk_shape = (
        f"wrk -t1 closed loop, single-row POST /predict, {args.seconds} s per level, "
        f"median of {args.runs} run(s)"
    )
    load_before = os.getloadavg()[0]
    print(f"SLO p99 {slo_ms:g} ms; load average (1 min) {load_before:.2f}")
    print(HEADER)
    if args.url:
        options: list[str] = []
        method = f"{wrk_shape} to {args.url} (no cgroup counters: the server is not local)"
        sweep = Sweep(args.url.rstrip("/"), args.seconds, slo_ms, args.load_cpus, runs=args.runs)
        measured = sweep.run(args.levels)
        target = args.url
    else:
        options = resources.podman_options(args.server_cpus)
        run = " ".join(["image/run.sh", *options, *(f"--env {pair}" for pair in args.env)])
        method = f"{wrk_shape}; {run}; wrk on cores {args.load_cpus}"
        with container(args.image, options, args.env) as (url, cgroup):
            sweep = Sweep(url, args.seconds, slo_ms, args.load_cpus, cgroup, args.runs)
            measured = sweep.run(args.levels)
        target = args.image
    load = f"load average (1 min) {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    result = report(target, f"{method}; {load}", resources, options, slo_ms, measured)
    best = result["max_concurrency_within_slo"]
    crossed = not all(within(level, slo_ms) for level in measured)
    print(f"highest concurrency within p99 {slo_ms:g} ms: {best}"
          + ("" if crossed else f" (not crossed up to {args.levels[-1]})"))  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json}", file=sys.stderr)


if __name__ == "__main__":
    # SIGTERM ends the sweep as Ctrl-C does: the container is removed on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    main()
