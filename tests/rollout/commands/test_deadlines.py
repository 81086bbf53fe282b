"""Real networks, real operators: every call of the rollout tool and of its gates ends within its
bound even when the API server or Prometheus answers a byte at a time (a congested proxy, which
no per-read socket timeout catches); an answer that is not the API's JSON (a proxy's login page)
is exit 2 with one line; SIGTERM is handled as Ctrl-C is."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from knative.kube.calls import Calls, connect
from knative.lease.lease import Lease
from tests.rollout.fake_knative_api import FakeKnative
from tests.rollout.gates.fake_prometheus import BUILD_INFO, FakePrometheus, vector
from tests.rollout.shared import DEPLOYED, V1, V2, percents
from tests.support.drip import DripProxy, ended_within
from tests.support.fake_clock import FakeClock
from tests.support.repo import REPO

TIMEOUT = ["--request-timeout", "0.5s"]
GATE = ["--probe-requests", "5"]
# A call is 3 attempts of at most 0.5 s each (the pauses between run on the fake clock); a
# command makes a handful. Generous, for a loaded machine: without a deadline it is minutes.
BOUND = 20.0
SERVICE = "/services/house-price"


def via(proxy: DripProxy, fake: FakeKnative, tmp_path: Path) -> str:
    """A kubeconfig that reaches ``fake`` through ``proxy``."""
    kubeconfig = Path(fake.kubeconfig(tmp_path / "kubeconfig-via-proxy"))
    kubeconfig.write_text(kubeconfig.read_text().replace(fake.url, proxy.url))
    return str(kubeconfig)


@pytest.fixture
def congested(deployed, tmp_path):
    """The deployed fake behind a proxy that drips what it is told to; the command line via it."""
    fake, _ = deployed
    with DripProxy(fake.url).running() as proxy:
        kubeconfig = via(proxy, fake, tmp_path)
        clock = FakeClock()

        def rollout(*args: str) -> int:
            return ended_within(BOUND, lambda: main_with(kubeconfig, clock, *TIMEOUT, *args))

        yield fake, proxy, rollout


def main_with(kubeconfig: str, clock, *args: str) -> int:
    from knative.rollout import main

    return main(["--kubeconfig", kubeconfig, *args], clock=clock)


def test_status_ends_when_every_answer_drips(congested, capsys):
    _, proxy, rollout = congested
    proxy.drip("GET", SERVICE, times=3)
    assert rollout("status") == 2
    err = capsys.readouterr().err
    assert "could not read service" in err and "within 0.5 s" in err and "3 attempts" in err


def test_a_shift_goes_on_after_one_read_dripped_at_10_percent(congested, capsys):
    fake, proxy, rollout = congested
    fake.before_patch.append(lambda: proxy.drip("GET", SERVICE))  # the wait after step 1
    assert rollout("shift", "--to", V2, "--steps", "10,100", *GATE) == 0
    assert percents(fake) == [10, 100]
    err = capsys.readouterr().err
    assert "within 0.5 s; trying again" in err


SCRAPED = vector(({"__name__": "house_price_model_info", "revision": V1}, 1.0))
HEALTHY = {"/api/v1/status/buildinfo": (200, BUILD_INFO), "/api/v1/query": (200, SCRAPED)}


def test_a_dripping_prometheus_after_a_step_puts_traffic_back_in_time(congested, capsys):
    fake, _, rollout = congested
    with (
        FakePrometheus(HEALTHY).running() as prometheus,
        DripProxy(prometheus.url).running() as slow,
    ):
        # step 1 lands, then every query drips
        fake.before_patch.append(lambda: slow.drip("GET", "/api/v1/query", times=10))
        args = ["--prometheus-url", slow.url, "--min-requests", "1", "--steps", "10,100"]
        assert rollout("shift", "--to", V2, *args, *GATE) == 2
    assert fake.traffic() == DEPLOYED
    err = capsys.readouterr().err
    assert "live gate after step 1 (10 %) could not judge" in err and "within 0.5 s" in err
    assert f"traffic is back at {V1} 100 %" in err


def test_leaving_the_renewed_block_ends_while_a_renewal_drips(tmp_path):
    with (
        FakeKnative.started() as fake,
        DripProxy(fake.url).running() as proxy,
        connect(via(proxy, fake, tmp_path), None) as api_client,
    ):
        lease = Lease(
            api_client, "house-price", "house-price", Calls(FakeClock(), 0.5), "me@here/1"
        )
        lease.seconds = 1  # a renewal every third of a second
        lease.take(force=False)
        proxy.drip("GET", "/leases/")

        def run_while_a_renewal_drips():
            with lease.renewed():
                assert proxy.dripping.wait(5)

        ended_within(5, run_while_a_renewal_drips)


@pytest.mark.parametrize("status", [200, 403])
def test_an_html_login_page_instead_of_the_api_is_exit_2_with_one_line(congested, capsys, status):
    _, proxy, rollout = congested
    proxy.login_page("GET", SERVICE, status=status, times=3)
    assert rollout("status") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert f"HTTP {status}" in err and "text/html" in err and "not the Kubernetes API" in err


def test_a_login_page_instead_of_the_lease_is_exit_2_with_one_line(congested, capsys):
    fake, proxy, rollout = congested
    proxy.login_page("GET", "/leases/", times=3)
    assert rollout("shift", "--to", V2, *GATE) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not the Kubernetes API" in err
    assert fake.spec_patches() == []


def command(kubeconfig: str, *args: str) -> subprocess.Popen:
    argv = [sys.executable, "-m", "knative.rollout", "--kubeconfig", kubeconfig, *args]
    return subprocess.Popen(
        argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the command did not get there in time"
        time.sleep(0.05)


def test_sigterm_mid_shift_releases_the_lease_and_says_where_traffic_is(deployed, tmp_path):
    fake, _ = deployed
    kubeconfig = fake.kubeconfig(tmp_path / "kubeconfig")
    running = command(kubeconfig, "shift", "--to", V2, "--steps", "10,100", "--interval", "60s")
    try:
        wait_for(lambda: percents(fake)[-1:] == [10])
        running.send_signal(signal.SIGTERM)  # CI cancels the job while step 1 is held
        _, err = running.communicate(timeout=30)
    finally:
        running.kill()
    assert running.returncode == 143, err
    assert "terminated" in err and f"traffic is now {V1} 90 %, {V2} 10 % (read back)" in err
    assert "holderIdentity" not in fake.leases.leases["house-price-rollout"]["spec"]


def test_sigterm_during_a_restore_finishes_it(deployed, route, tmp_path):
    fake, _ = deployed
    kubeconfig = fake.kubeconfig(tmp_path / "kubeconfig")
    running = command(kubeconfig, "shift", "--to", V2, "--steps", "10,100", "--interval", "1s")
    try:
        wait_for(lambda: percents(fake)[-1:] == [10])
        fake.slow_seconds = 3.0
        fake.fail("PATCH", "slow")  # the restore lands, its answer comes late
        route.status = 503  # so the probes before step 2 fail
        wait_for(lambda: len(fake.spec_patches()) == 2)
        running.send_signal(signal.SIGTERM)
        _, err = running.communicate(timeout=30)
    finally:
        running.kill()
    assert running.returncode == 1, err
    assert "interrupted while putting traffic back: trying once more" in err
    assert f"traffic is back at {V1} 100 %" in err
    assert fake.traffic() == DEPLOYED
