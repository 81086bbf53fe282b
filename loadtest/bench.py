"""Benchmark the real server: cold start, idle memory, req/s and latency (``make bench``).

The server runs pinned to one core (``taskset -c 0``) and wrk loads it from the other
(``taskset -c 1``), on 127.0.0.1 only, for a bounded time. Prints one line per number.
"""

import http.client
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from loadtest.local_server import REPO, start_server, stop, wait_ready

ROW = json.loads((REPO / "model_data" / "sample-row.json").read_text())
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
SERVER_CORE, LOAD_CORE = ("taskset", "-c", "0"), ("taskset", "-c", "1")


def start():
    """The server on its own core, its output discarded; (process, port)."""
    process, url = start_server(prefix=SERVER_CORE, output=subprocess.DEVNULL)
    return process, urlsplit(url).port


def post(port, body, timeout=5.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/predict", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def cold_start_seconds(body):
    """exec → first successful prediction."""
    started = time.perf_counter()
    process, port = start()
    try:
        while time.perf_counter() - started < 30:
            try:
                if post(port, body, timeout=1) == 200:
                    return time.perf_counter() - started
            except OSError:
                time.sleep(0.002)
        raise SystemExit("server did not answer within 30 s")
    finally:
        stop(process)


def tree_memory_mb(pid):
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


def wrk(port, connections, body):
    lua = (
        f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "post.lua"
        script.write_text(lua)
        command = [*LOAD_CORE, "wrk", "-t1", f"-c{connections}", f"-d{SECONDS}s",
                   "--latency", "-s", script, f"http://127.0.0.1:{port}/predict"]  # fmt: skip
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw errors:\n{out}")
    fields = dict(
        line.split(None, 1) for line in out.splitlines() if line.strip()[:3] in ("50%", "99%")
    )
    rps = next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec"))
    return float(rps), fields["50%"].strip(), fields["99%"].strip()


def batch_latency_ms(port, rows, count=200):
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


def main():
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        raise SystemExit("make bench needs wrk and taskset: apt-get install wrk util-linux")
    body = json.dumps([ROW])
    cold = [cold_start_seconds(body) for _ in range(5)]
    each = ", ".join(f"{c * 1000:.0f}" for c in cold)
    print(f"cold start (exec -> first prediction): median {statistics.median(cold) * 1000:.0f} ms"
          f" of 5 ({each})")  # fmt: skip
    process, port = start()
    try:
        wait_ready(process, f"http://127.0.0.1:{port}")
        for _ in range(200):
            post(port, body)
        time.sleep(1)
        rss, pss = tree_memory_mb(process.pid)
        print(f"idle memory of the whole server: RSS {rss:.0f} MB (PSS {pss:.0f} MB)")
        for connections in (8, 32):
            rps, p50, p99 = wrk(port, connections, body)
            print(f"single-row /predict, {connections} connections: {rps:,.0f} req/s, "
                  f"p50 {p50}, p99 {p99}")  # fmt: skip
        for rows in (100, 1000):
            median, p99 = batch_latency_ms(port, rows)
            print(f"{rows}-row batch: median {median:.2f} ms, p99 {p99:.2f} ms")
    finally:
        stop(process)


if __name__ == "__main__":
    main()
