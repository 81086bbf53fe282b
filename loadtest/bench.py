"""Benchmark the real server against the floor of its stack, in one run (``make bench``).

Every figure is taken of the predictor (``python -m function``) and of the floor
(``loadtest/floor.py``: granian and ONNX Runtime with no framework), in turn, and printed with
the predictor's ratio to the floor beside the absolute numbers. Each server runs pinned to one
core (``taskset -c 0``) and wrk loads it from the other (``taskset -c 1``), on 127.0.0.1 only,
for a bounded time. See docs/benchmarks.md for the method and the targets.
"""

import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from loadtest import capacity
from loadtest.local_server import REPO, free_port, stop, wait_ready

ROW = json.loads((REPO / "model_data" / "sample-row.json").read_text())
VALUES = list(ROW.values())  # the card's feature order, as sample-row.json lists it
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
STARTS = int(os.environ.get("BENCH_STARTS", "9"))
IMAGE = os.environ.get("BENCH_IMAGE", "localhost/house-price:dev")
SERVER_CORE, LOAD_CORE = ("taskset", "-c", "0"), ("taskset", "-c", "1")
# What follows ``python``: the predictor as ``make run`` starts it, the floor under granian's own
# command line with the predictor's server settings (function/__main__.py).
GRANIAN = ("-m", "granian", "--interface", "rsgi", "--workers", "1", "--runtime-mode", "st",
           "--http", "1", "--factory")  # fmt: skip
SERVERS = {"predictor": ("-m", "function"), "floor": (*GRANIAN, "loadtest.floor:create_app")}
V2_INPUT = {"name": "features", "shape": [1, 6], "datatype": "FP64", "data": VALUES}


@dataclass(frozen=True)
class Load:
    """One wrk run: what is asked, and the predictor's target against the floor (if any)."""

    name: str
    path: str
    body: object = None  # JSON to POST; None for a GET
    targets: bool = True  # req/s >= 70 % and p99 <= 1.5x the floor's


LOADS = (
    Load("single-row /predict", "/predict", [ROW]),
    Load("KServe V1 infer", "/v1/models/house-price:predict", {"instances": [VALUES]}),
    Load("V2 infer (JSON)", "/v2/models/house-price/infer", {"inputs": [V2_INPUT]}),
    Load("100-row /predict", "/predict", [ROW] * 100, targets=False),
    Load("GET /healthz", "/healthz", targets=False),
    Load("GET /readyz", "/readyz", targets=False),
)
MIN_SHARE, MAX_P99 = 0.70, 1.5


def start(name: str, port: int) -> subprocess.Popen:
    """A server on its own core, its output discarded. Stalled uploads are held for longer than
    a wrk run (READ_TIMEOUT_SECONDS), so that one run sees them all along."""
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "GRANIAN_PORT": str(port),
           "READ_TIMEOUT_SECONDS": str(SECONDS + 5)}  # fmt: skip
    return subprocess.Popen([*SERVER_CORE, sys.executable, *SERVERS[name]], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def post(port: int, body: str, path: str = "/predict", timeout: float = 5.0) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def first_prediction_seconds(launch: Callable[[int], Callable[[], None]]) -> float:
    """Time from ``launch(port)`` to the first 200 to a single-row ``POST /predict``; ``launch``
    starts a server on ``port`` and returns what stops it."""
    body, port = json.dumps([ROW]), free_port()
    started = time.perf_counter()
    halt = launch(port)
    try:
        while time.perf_counter() - started < 30:
            try:
                if post(port, body, timeout=1) == 200:
                    return time.perf_counter() - started
            except OSError:
                time.sleep(0.002)
        raise SystemExit("server did not answer within 30 s")
    finally:
        halt()


def exec_start(name: str) -> Callable[[int], Callable[[], None]]:
    """Launch the server on the server core, as ``make run`` does."""

    def launch(port: int) -> Callable[[], None]:
        process = start(name, port)
        return lambda: stop(process)

    return launch


def container_start(name: str) -> Callable[[int], Callable[[], None]]:
    """Launch the image as Knative runs it (``image/run.sh``) on the server core; the floor runs
    in the same image, its one file mounted read-only."""

    def launch(port: int) -> Callable[[], None]:
        container = container_name(port)
        options = ["--name", container, "--cpuset-cpus", "0"]
        if name == "floor":
            floor = REPO / "loadtest" / "floor.py"
            entrypoint = json.dumps(["python", *GRANIAN, "floor:create_app"])
            options += ["--volume", f"{floor}:/app/floor.py:ro", "--entrypoint", entrypoint]
            options += ["--env", "GRANIAN_HOST=0.0.0.0", "--env", f"GRANIAN_PORT={port}"]
        process = subprocess.Popen(
            [REPO / "image" / "run.sh", IMAGE, *options], env={**os.environ, "PORT": str(port)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

        def halt() -> None:
            subprocess.run([REPO / "image" / "podman.sh", "rm", "--force", container],
                           capture_output=True, timeout=30)  # fmt: skip
            process.wait(timeout=30)

        return halt

    return launch


def container_name(port: int) -> str:
    return f"bench-{port}"


def container_pid(port: int) -> int:
    """The host's PID of the container's first process (the server's supervisor)."""
    return int(capacity.podman("inspect", "--format", "{{.State.Pid}}", container_name(port)))


def idle_container_mb(name: str) -> float:
    """The working set of the server's container, idle after 200 predictions, in MB."""
    port = free_port()
    halt = container_start(name)(port)
    try:
        capacity.wait_until_predicting(f"http://127.0.0.1:{port}", timeout=30)
        warm(port)
        return capacity.working_set_bytes(container_pid(port)) / 2**20
    finally:
        halt()


def has_image() -> bool:
    if shutil.which("podman") is None:
        return False
    exists = subprocess.run(["podman", "image", "exists", IMAGE], capture_output=True)
    return exists.returncode == 0


def tree_memory_mb(pid: int) -> tuple[float, float]:
    """RSS and PSS (shared pages split between processes) of a process and its children."""
    pids = [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    rss = pss = 0
    for each in pids:
        for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss += int(line.split()[1])
            elif line.startswith("Pss:"):
                pss += int(line.split()[1])
    return rss / 1024, pss / 1024


def wrk(port: int, load: Load, connections: int = 8) -> tuple[float, float]:
    """(req/s, p99 in ms) of ``connections`` connections asking ``load`` for SECONDS."""
    lua = f'wrk.method = "{"GET" if load.body is None else "POST"}"\n'
    if load.body is not None:
        lua += f"wrk.body = {json.dumps(json.dumps(load.body))}\n"
        lua += 'wrk.headers["Content-Type"] = "application/json"\n'
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "load.lua"
        script.write_text(lua)
        command = [*LOAD_CORE, "wrk", "-t1", f"-c{connections}", f"-d{SECONDS}s",
                   "--latency", "-s", script, f"http://127.0.0.1:{port}{load.path}"]  # fmt: skip
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


def parse_wrk(out: str) -> tuple[float, float]:
    """(req/s, p99 in ms) from wrk's ``--latency`` report; errors end the benchmark."""
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw errors:\n{out}")
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.MULTILINE)
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    if rps is None or p99 is None:
        raise SystemExit(f"unexpected wrk output:\n{out}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return float(rps.group(1)), float(p99.group(1)) * scale


def stalled_uploads(port: int, count: int) -> list[socket.socket]:
    """Connections whose body stops after its first byte, as a slow or vanished client leaves it."""
    head = b"POST /predict HTTP/1.1\r\nHost: bench\r\nContent-Length: 1000\r\n\r\n["
    connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    for connection in connections:
        connection.sendall(head)
    return connections


def batch_latency_ms(port: int, rows: int, count: int = 200) -> tuple[float, float]:
    """(median, p99) in ms of ``count`` batches sent one after another on one connection."""
    body = json.dumps([ROW] * rows)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        conn.request("POST", "/predict", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        assert response.status == 200, response.status
        times.append((time.perf_counter() - started) * 1000)
    conn.close()
    return statistics.median(times), statistics.quantiles(times, n=100)[98]


def row(figure: str, predictor: str, floor: str, ratio: str) -> None:
    print(f"{figure:<50} {predictor:<40} {floor:<40} {ratio}", flush=True)


def starts(kind: str, launcher: Callable[[str], Callable[[int], Callable[[], None]]]) -> None:
    """STARTS starts of each server, in turn; the medians and the predictor's ratio."""
    times = {name: [] for name in SERVERS}
    for _ in range(STARTS):
        for name in SERVERS:
            times[name].append(first_prediction_seconds(launcher(name)) * 1000)
    predictor, floor = (statistics.median(times[name]) for name in SERVERS)
    row(f"{kind} -> first prediction (median of {STARTS})", f"{predictor:.0f} ms",
        f"{floor:.0f} ms", f"{predictor / floor:.2f}x")  # fmt: skip
    print(f"  each, ms: predictor {sorted(round(t) for t in times['predictor'])}, "
          f"floor {sorted(round(t) for t in times['floor'])}")  # fmt: skip


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children so far, every thread included."""
    ticks = 0
    for each in [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]:
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (proc(5) fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def speed(port: dict[str, int], pids: dict[str, int], load: Load) -> None:
    """req/s and p99 of each server, and the CPU each spent a request (other work on a shared
    machine moves it much less than the requests a second): medians of RUNS runs, the servers
    in turn, so that a slow spell of the machine falls on both."""
    runs = {name: [] for name in SERVERS}
    for _ in range(RUNS):
        for name in SERVERS:
            cpu = cpu_seconds(pids[name])
            rps, p99 = wrk(port[name], load)
            runs[name].append((rps, p99, (cpu_seconds(pids[name]) - cpu) / (rps * SECONDS) * 1e6))
    (rps, p99, cpu), (floor_rps, floor_p99, floor_cpu) = (
        [statistics.median(figure) for figure in zip(*runs[name], strict=True)] for name in SERVERS
    )
    share, slower = rps / floor_rps, p99 / floor_p99
    ratio = f"{share:.0%} of req/s, p99 {slower:.2f}x, CPU {cpu / floor_cpu:.2f}x"
    if load.targets:
        met = share >= MIN_SHARE and slower <= MAX_P99
        ratio += f"  target >= {MIN_SHARE:.0%}, <= {MAX_P99}x: {'met' if met else 'MISSED'}"
    predictor = f"{rps:,.0f} req/s, p99 {p99:.2f} ms, {cpu:.0f} us CPU"
    floor = f"{floor_rps:,.0f} req/s, p99 {floor_p99:.2f} ms, {floor_cpu:.0f} us CPU"
    row(f"{load.name}, 8 connections", predictor, floor, ratio)


def idle_memory_mb(name: str) -> tuple[float, float]:
    """RSS and PSS of the server, idle after 200 predictions, with no other server running:
    a page of a library that another process maps too counts in PSS for a share of it only."""
    port = free_port()
    process = start(name, port)
    try:
        wait_ready(process, f"http://127.0.0.1:{port}")
        warm(port)
        return tree_memory_mb(process.pid)
    finally:
        stop(process)


def warm(port: int) -> None:
    """200 single-row predictions, then a second's rest."""
    for _ in range(200):
        post(port, json.dumps([ROW]))
    time.sleep(1)


def served(port: dict[str, int], pids: dict[str, int]) -> None:
    """The figures of two running servers, taken in turn."""
    for load in LOADS:
        speed(port, pids, load)
    (rps, p99), (floor_rps, floor_p99) = (wrk(port[name], LOADS[0], 32) for name in SERVERS)
    figures = (
        f"{rps:,.0f} req/s, p99 {p99:.2f} ms",
        f"{floor_rps:,.0f} req/s, p99 {floor_p99:.2f} ms",
    )
    row("single-row /predict, 32 connections", *figures, f"{rps / floor_rps:.0%} of req/s")
    for rows in (100, 1000):
        (median, p99), (floor_median, _) = (batch_latency_ms(port[n], rows) for n in SERVERS)
        figures = f"median {median:.2f} ms, p99 {p99:.2f}", f"median {floor_median:.2f} ms"
        row(f"{rows}-row batch, one connection", *figures, f"{median / floor_median:.2f}x median")
    stalled = stalled_uploads(port["predictor"], 8)
    rps, p99 = wrk(port["predictor"], LOADS[0])
    row(
        "single-row /predict, 8 conn., 8 uploads stalled",
        f"{rps:,.0f} req/s, p99 {p99:.2f} ms",
        "",
        "",
    )
    for connection in stalled:
        connection.close()


def main() -> None:
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        raise SystemExit("make bench needs wrk and taskset: apt-get install wrk util-linux")
    print(f"load average before: {os.getloadavg()[0]:.2f}; {SECONDS} s per wrk run, "
          f"medians of {RUNS} runs a load")  # fmt: skip
    row("", "predictor", "floor", "predictor / floor")
    starts("exec", exec_start)
    if has_image():
        starts("container start", container_start)
        memory, floor_memory = (idle_container_mb(name) for name in SERVERS)
        row("idle container, working set (cgroup)", f"{memory:.0f} MB", f"{floor_memory:.0f} MB",
            f"{memory / floor_memory:.2f}x")  # fmt: skip
    else:
        print(f"container start: skipped, no image {IMAGE} (make image builds it)")
    (rss, pss), (floor_rss, floor_pss) = (idle_memory_mb(name) for name in SERVERS)
    memory = f"RSS {rss:.0f} MB (PSS {pss:.0f})", f"RSS {floor_rss:.0f} MB (PSS {floor_pss:.0f})"
    row("idle memory, whole server", *memory, f"{rss / floor_rss:.2f}x RSS")
    port = {name: free_port() for name in SERVERS}
    servers = {name: start(name, port[name]) for name in SERVERS}
    try:
        for name, process in servers.items():
            wait_ready(process, f"http://127.0.0.1:{port[name]}")
            warm(port[name])
        served(port, {name: process.pid for name, process in servers.items()})
    finally:
        for process in servers.values():
            stop(process)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
