"""Other writers, end to end: a second rollout process, kn or kubectl writing between steps, a
held or expired lease. The command line runs in-process against the fake Knative API; the other
rollout is a real process."""

import subprocess
import sys

from knative.traffic.plan import Traffic, to_targets
from tests.rollout.shared import DEPLOYED, TAGS, V1, V2, percents
from tests.support.repo import REPO

GATE = ["--probe-requests", "3"]
LEASE = "house-price-rollout"
ALICE = "alice@laptop/4242"
HALF = to_targets(Traffic({V1: 50, V2: 50}, TAGS))


def other_process(fake, tmp_path, *args: str) -> subprocess.CompletedProcess:
    """Another operator's ``python -m knative.rollout`` against the same API."""
    kubeconfig = fake.kubeconfig(tmp_path / "other-kubeconfig")
    command = [sys.executable, "-m", "knative.rollout", "--kubeconfig", kubeconfig, *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)


def test_a_rollback_during_a_shift_wins_and_the_shift_stops_without_writing(
    deployed, tmp_path, capsys
):
    fake, rollout = deployed
    done = []
    rollout.clock.on_sleep.append(lambda: done.append(other_process(fake, tmp_path, "rollback")))
    assert rollout("shift", "--to", V2, *GATE) == 2
    [rollback] = done
    assert rollback.returncode == 0, rollback.stderr
    assert "took the lease from" in rollback.stdout and "stops before its next write" in (
        rollback.stdout
    )
    assert percents(fake) == [10, 0]  # the shift's step, the rollback; nothing after
    assert fake.traffic() == DEPLOYED
    err = capsys.readouterr().err
    assert "stopped without writing: someone else changed service house-price" in err
    assert "spec.traffic last written by knative-rollout " in err  # the rollback's holder
    assert f"traffic is now {V1} 100 %" in err


def test_a_second_shift_refuses_to_start_while_the_first_holds_the_lease(
    deployed, tmp_path, capsys
):
    fake, rollout = deployed
    done = []
    second = ("shift", "--to", V2, *GATE)
    rollout.clock.on_sleep.append(lambda: done.append(other_process(fake, tmp_path, *second)))
    assert rollout("shift", "--to", V2, *GATE) == 0
    [refused] = done
    assert refused.returncode == 2
    assert "another rollout command is changing service house-price" in refused.stderr
    assert f"lease house-price/{LEASE} is held by " in refused.stderr
    assert percents(fake) == [10, 25, 50, 100]  # only the first shift wrote, always forward


def test_a_command_refuses_while_someone_else_holds_the_lease(deployed, capsys):
    fake, rollout = deployed
    fake.leases.hold(LEASE, ALICE, renewed_ago=3)
    assert rollout("promote", *GATE) == 2
    assert f"is held by {ALICE} (renewed 3 s ago" in capsys.readouterr().err
    assert rollout("status") == rollout("promote", "--dry-run") == 0  # reading needs no lease
    assert fake.patches() == []
    assert fake.leases.leases[LEASE]["spec"]["holderIdentity"] == ALICE


def test_an_expired_lease_of_a_crashed_run_is_taken_over(deployed, capsys):
    fake, rollout = deployed
    fake.leases.hold(LEASE, ALICE, renewed_ago=120)
    assert rollout("promote", *GATE) == 0
    assert f"took over the expired lease of {ALICE} (renewed 120 s ago)" in capsys.readouterr().out
    assert "holderIdentity" not in fake.leases.leases[LEASE]["spec"]  # released at the end


def test_rollback_takes_a_held_lease_and_says_so(deployed, capsys):
    fake, rollout = deployed
    fake.write_concurrently(HALF)
    fake.leases.hold(LEASE, ALICE)
    assert rollout("rollback") == 0
    assert f"took the lease from {ALICE}" in capsys.readouterr().out
    assert fake.traffic() == DEPLOYED


def test_a_traffic_change_by_kubectl_between_steps_stops_the_shift(deployed, capsys):
    fake, rollout = deployed
    rollout.clock.on_sleep.append(lambda: fake.write_concurrently(HALF, "kubectl-edit"))
    assert rollout("shift", "--to", V2, *GATE) == 2
    assert percents(fake) == [10, 50]  # ours, theirs; nothing after
    err = capsys.readouterr().err
    assert "spec.traffic last written by kubectl-edit at 20" in err
    assert f"traffic is now {V1} 50 %, {V2} 50 % (this command left {V1} 90 %, {V2} 10 %)" in err


def test_a_failed_gate_does_not_put_back_over_someone_elses_change(deployed, route, capsys):
    fake, rollout = deployed

    def operator_edits_and_candidate_breaks():
        fake.write_concurrently(HALF, "kubectl-edit")
        route.status = 503

    rollout.clock.on_sleep.append(operator_edits_and_candidate_breaks)
    assert rollout("shift", "--to", V2, *GATE) == 2
    assert fake.traffic() == HALF
    assert "stopped without writing" in capsys.readouterr().err
