"""A misbehaving API server and Ctrl-C, end to end: answers lost, slow or failing, and an
operator interrupting a restore. The command line runs in-process against the fake Knative API;
retries and waits pause on a fake clock, timeouts are real."""

from knative.traffic.plan import parse_traffic
from tests.rollout.fake_kn import kn_applied
from tests.rollout.shared import DEPLOYED, V1, V2, percents

GATE = ["--probe-requests", "3"]


def ctrl_c():
    raise KeyboardInterrupt


def test_a_lost_answer_mid_shift_is_not_reported_as_a_failure(deployed):
    fake, rollout = deployed
    rollout.clock.on_sleep.append(lambda: fake.fail("PATCH", "lost"))
    assert rollout("shift", "--to", V2, *GATE) == 0
    assert percents(fake) == [10, 25, 50, 100]


def test_a_write_with_an_unknown_outcome_never_claims_the_old_split(deployed, capsys):
    fake, rollout = deployed

    def api_breaks():
        fake.fail("PATCH", "lost")  # step 2 lands, its answer is lost
        fake.fail("PATCH", 503, times=2)
        fake.before_patch.append(lambda: fake.fail("GET", 503, times=3, on="services"))

    rollout.clock.on_sleep.append(api_breaks)
    assert rollout("shift", "--to", V2, *GATE) == 2
    err = capsys.readouterr().err
    assert "what the API holds is unknown: see `status`" in err
    assert "90 %" not in err and percents(fake)[-1] == 25  # the API holds step 2


def test_a_slow_api_server_is_given_up_on(deployed, capsys):
    fake, rollout = deployed
    fake.slow_seconds = 1.0
    fake.fail("GET", "slow", times=3)
    assert rollout("--request-timeout", "0.2s", "status") == 2
    err = capsys.readouterr().err
    assert "could not read service: the API server did not answer (no answer within 0.2 s" in err
    assert rollout.clock.sleeps == [1.0, 2.0]


def test_ctrl_c_during_the_restore_tries_it_once_more(deployed, route, capsys):
    fake, rollout = deployed

    def candidate_breaks_then_ctrl_c_hits_the_restore():
        route.status = 503
        fake.fail("PATCH", 503)  # the restore's first try waits to retry: Ctrl-C lands there
        rollout.clock.on_sleep.append(ctrl_c)

    rollout.clock.on_sleep.append(candidate_breaks_then_ctrl_c_hits_the_restore)
    assert rollout("shift", "--to", V2, *GATE) == 1
    err = capsys.readouterr().err
    assert "interrupted while putting traffic back: trying once more" in err
    assert f"traffic is back at {V1} 100 %" in err
    assert fake.traffic() == DEPLOYED


def test_ctrl_c_twice_during_the_restore_says_loudly_where_traffic_is(deployed, route, capsys):
    fake, rollout = deployed

    def ctrl_c_again():
        rollout.clock.on_sleep.append(ctrl_c)
        raise KeyboardInterrupt

    def candidate_breaks_and_the_api_too():
        route.status = 503
        fake.fail("PATCH", 503, times=6)
        rollout.clock.on_sleep.append(ctrl_c_again)

    rollout.clock.on_sleep.append(candidate_breaks_and_the_api_too)
    assert rollout("shift", "--to", V2, *GATE) == 130
    err = capsys.readouterr().err
    assert "INTERRUPTED WHILE PUTTING TRAFFIC BACK (gate failed before step 2" in err
    assert f"Traffic is now: {V1} 90 %, {V2} 10 % (read back)." in err
    [restore] = [line.strip() for line in err.splitlines() if line.strip().startswith("kn ")]
    restored, _ = kn_applied(restore, fake.traffic())
    assert parse_traffic(restored, None) == parse_traffic(DEPLOYED, None)
    assert "python -m knative.rollout -n house-price -s house-price rollback" in err


def test_ctrl_c_between_steps_reads_back_where_traffic_is(deployed, capsys):
    fake, rollout = deployed
    rollout.clock.on_sleep.append(ctrl_c)
    assert rollout("shift", "--to", V2, *GATE) == 130
    err = capsys.readouterr().err
    assert f"interrupted: traffic is now {V1} 90 %, {V2} 10 % (read back)" in err
    assert fake.traffic_history == [fake.traffic()]  # step 1 only
