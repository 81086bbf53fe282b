"""``python -m knative.rollout`` end to end: the real kubernetes client against the fake Knative
API, the gate against a local tag route, waits on an injected clock. All on 127.0.0.1."""

import copy
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from knative.traffic.plan import Traffic, parse_traffic
from tests.release.manifests.knative_rules.limits import ClusterLimits
from tests.rollout.fake_kn import kn_applied
from tests.rollout.fake_knative_api import FakeKnative
from tests.rollout.fake_knative_conditions import container_exits, pull_backoff, pull_error
from tests.rollout.fake_knative_serving import IMAGE
from tests.rollout.fake_tag_route import FakeTagRoute
from tests.rollout.shared import DEPLOYED, TAGS, V1, V2, cli
from tests.support.repo import REPO

GATE = ["--probe-requests", "5"]
# What the quality gate sends the candidate: one row for its model version, the 102 reference
# rows in batches of 50, and 60 rows with one feature moved (6 features x 5 rows x low/high).
QUALITY_REQUESTS = 1 + 3 + 2


def _kn_commands(out: str) -> list[str]:
    return [line.split("kn: ", 1)[1] for line in out.splitlines() if "kn: " in line]


def _percents(history: list[list[dict]], revision: str) -> list[int]:
    return [parse_traffic(traffic, None).percent(revision) for traffic in history]


def test_status_in_text(deployed, capsys):
    fake, rollout = deployed
    assert rollout("status") == 0
    out = capsys.readouterr().out
    assert "service house-price in namespace house-price: ready" in out
    lines = {line.split()[0]: line for line in out.splitlines()[3:]}
    assert lines[V1].split()[1:5] == ["100", "%", "blue", "yes"]
    assert lines[V1].endswith(fake.tag_url("blue", "house-price"))
    assert lines[V2].split()[1:5] == ["0", "%", "green", "yes"]


def test_status_in_json(deployed, capsys):
    fake, rollout = deployed
    fake.failing_revisions[V2] = pull_backoff(IMAGE)
    assert rollout("status", "-o", "json") == 0
    found = json.loads(capsys.readouterr().out)
    assert (found["service"], found["namespace"]) == ("house-price", "house-price")
    v1, v2 = found["revisions"]
    assert (v1["name"], v1["percent"], v1["tags"], v1["ready"]) == (V1, 100, ["blue"], True)
    assert v1["urls"] == [fake.tag_url("blue", "house-price")]
    _, pulling = pull_error(IMAGE)  # the kubelet's back-off message, as Knative copies it
    assert (v2["percent"], v2["ready"], v2["reason"]) == (0, False, pulling)
    assert found["ready"] is False  # a routed revision failing makes the Service not ready


def deploy_args(release="bbbbbbb", image="registry.example.com/hp:bbbbbbb", model_version="2"):
    return ("deploy", "--image", image, "--model-version", model_version, "--release", release)


NEW = "house-price-v2-bbbbbbb"  # what deploy_args() deploys


def test_deploy_adds_green_at_0_waits_for_it_and_prints_its_url(fresh, capsys):
    fake, rollout = fresh
    fake.revision_ready_after = 4
    assert rollout(*deploy_args()) == 0
    assert parse_traffic(fake.traffic(), None) == Traffic(
        {V1: 100, NEW: 0}, {"blue": V1, "green": NEW}
    )
    container = fake.revisions[NEW]["spec"]["containers"][0]
    assert container["image"] == "registry.example.com/hp:bbbbbbb"
    assert {"name": "MODEL_PATH", "value": "/app/model_data/model-v2.onnx"} in container["env"]
    assert container["ports"] == [{"containerPort": 8080}]  # the rest of the template is kept
    assert len(fake.patches()) == 1
    assert rollout.clock.sleeps, "waited for the revision on the injected clock"
    out = capsys.readouterr().out
    assert (
        f"{NEW} serves 0 % and answers at its tag URL: {fake.tag_url('green', 'house-price')}"
        in out
    )


def test_deploy_asks_the_cluster_first_with_a_server_side_dry_run(fresh, capsys):
    fake, rollout = fresh
    assert rollout(*deploy_args()) == 0
    writes = [path for method, path in fake.requests if method == "PATCH"]
    assert writes == [*fake.dry_runs(), *fake.patches()] and len(writes) == 2
    assert "admission webhook accept it (server-side dry run)" in capsys.readouterr().out


def test_a_deploy_the_webhook_rejects_exits_2_with_its_message_and_changes_nothing(fresh, capsys):
    fake, rollout = fresh
    fake.limits = ClusterLimits(container_concurrency_max_limit=5)  # the template asks for 10
    before = copy.deepcopy(fake.services["house-price"])
    assert rollout(*deploy_args()) == 2
    err = capsys.readouterr().err
    assert "could not check the patch with the API server (dry run)" in err
    assert 'admission webhook "validation.webhook.serving.knative.dev" denied the request' in err
    assert "containerConcurrency: 10 is outside [0, 5]" in err
    assert err.rstrip().endswith("nothing was changed, traffic is as it was")
    assert len(fake.dry_runs()) == 1 and fake.patches() == []
    assert fake.services["house-price"] == before and NEW not in fake.revisions


def test_running_the_same_release_again_changes_nothing_and_says_so(fresh, capsys):
    fake, rollout = fresh
    assert rollout(*deploy_args()) == 0
    writes = (fake.patches(), fake.dry_runs(), fake.services["house-price"]["spec"])
    capsys.readouterr()
    assert rollout(*deploy_args()) == 0
    out = capsys.readouterr().out
    assert f"nothing to deploy: revision {NEW} already runs registry.example.com/hp:bbbbbbb" in out
    assert "no new revision" in out and f"{NEW} serves 0 %" in out
    assert (fake.patches(), fake.dry_runs(), fake.services["house-price"]["spec"]) == writes
    assert list(fake.revisions) == [V1, NEW]


def test_the_same_release_with_another_image_is_refused(fresh, capsys):
    fake, rollout = fresh
    assert rollout(*deploy_args()) == 0
    patches = len(fake.patches())
    assert rollout(*deploy_args(image="registry.example.com/hp:other")) == 2
    assert f"revision {NEW} already exists and runs another image" in capsys.readouterr().err
    assert len(fake.patches()) == patches and len(fake.dry_runs()) == 1


def test_an_earlier_release_is_not_deployed_again(fresh, capsys):
    fake, rollout = fresh
    assert rollout(*deploy_args()) == 0
    assert rollout(*deploy_args("ccccccc", "registry.example.com/hp:ccccccc")) == 0
    patches = len(fake.patches())
    assert rollout(*deploy_args()) == 2
    err = capsys.readouterr().err
    assert f"revision {NEW} is an earlier deploy" in err and "house-price-v2-ccccccc" in err
    assert len(fake.patches()) == patches


def test_deploy_of_a_failing_revision_exits_2_with_traffic_where_it_was(fresh, capsys):
    fake, rollout = fresh
    fake.failing_revisions[NEW] = container_exits("model not found")
    assert rollout(*deploy_args()) == 2
    err = capsys.readouterr().err
    assert f"revision {NEW} failed: Container failed with: model not found" in err
    assert f"{NEW} has 0 %, traffic is as it was" in err
    assert parse_traffic(fake.traffic(), None).percents == {V1: 100, NEW: 0}


def test_deploy_dry_run_writes_nothing_and_its_kn_command_does_the_same(fresh, capsys):
    fake, rollout = fresh
    before = fake.traffic()
    assert rollout(*deploy_args(), "--dry-run") == 0
    assert fake.patches() == [] and fake.dry_runs() == []
    [command] = _kn_commands(capsys.readouterr().out)
    applied, flags = kn_applied(command, before)
    assert rollout(*deploy_args()) == 0
    assert parse_traffic(applied, None) == parse_traffic(fake.traffic(), None)
    assert (flags["revision_name"], flags["image"]) == (NEW, "registry.example.com/hp:bbbbbbb")
    assert flags["env"] == ["MODEL_PATH=/app/model_data/model-v2.onnx"]


def test_a_code_only_release_goes_green_end_to_end(tmp_path, capsys):
    """Same model v2, new code: a new revision beside the serving one, shifted, promoted."""
    serving = "house-price-v2-aaaaaaa"
    with (
        FakeKnative.started(revisions=(serving,), model_version="2") as fake,
        FakeTagRoute(NEW, "v2").running() as route,
        FakeTagRoute(serving, "v2").running() as serving_route,  # the quality gate's incumbent
    ):
        fake.tag_urls |= {"green": route.url, "blue": serving_route.url}
        rollout = cli(fake, tmp_path)
        assert rollout(*deploy_args()) == 0
        assert rollout("shift", "--to", NEW, *GATE) == 0
        assert rollout("promote", *GATE) == 0
    assert parse_traffic(fake.traffic(), None) == Traffic(
        {serving: 0, NEW: 100}, {"blue": serving, "green": NEW}
    )
    images = {name: rev["spec"]["containers"][0]["image"] for name, rev in fake.revisions.items()}
    assert images == {serving: IMAGE, NEW: "registry.example.com/hp:bbbbbbb"}
    models = {rev["spec"]["containers"][0]["env"][-1]["value"] for rev in fake.revisions.values()}
    assert models == {"/app/model_data/model-v2.onnx"}
    assert _percents(fake.traffic_history, NEW) == [0, 10, 25, 50, 100]
    assert "nothing to do" in capsys.readouterr().out  # promote found the shift done


def test_a_full_shift_grows_monotonically_and_always_sums_to_100(deployed, route, capsys):
    fake, rollout = deployed
    assert rollout("shift", "--to", V2, "--interval", "30s", *GATE) == 0
    assert _percents(fake.traffic_history, V2) == [10, 25, 50, 100]
    for traffic in fake.traffic_history:
        assert sum(target["percent"] for target in traffic) == 100
        assert parse_traffic(traffic, None).tags == TAGS
    assert rollout.clock.sleeps == [30, 30, 30]
    assert len(route.bodies) == QUALITY_REQUESTS + 4 * (1 + 5)  # probes: a warm-up and 5
    assert f"done: {V2} serves 100 %" in capsys.readouterr().out


def test_a_gate_failing_at_the_second_step_puts_back_the_original_split(deployed, route, capsys):
    fake, rollout = deployed
    rollout.clock.on_sleep.append(lambda: setattr(route, "status", 503))  # breaks while we wait
    assert rollout("shift", "--to", V2, *GATE) == 1
    assert fake.traffic_history == [fake.traffic_history[0], DEPLOYED]
    assert _percents(fake.traffic_history, V2) == [10, 0]
    assert fake.traffic() == DEPLOYED
    err = capsys.readouterr().err
    assert "gate failed before step 2: 0/5 probes ok" in err
    assert f"traffic is back at {V1} 100 %" in err


def test_a_gate_failing_at_the_first_step_changes_nothing(deployed, route, capsys):
    fake, rollout = deployed
    route.revision = V1  # the tag URL answers, but from the wrong revision
    assert rollout("shift", "--to", V2, *GATE) == 1
    assert fake.spec_patches() == []
    err = capsys.readouterr().err
    assert err.startswith("gate failed before step 1: 0/5 probes ok")
    assert f"(5x answered by {V1})" in err and f"traffic is still at {V1} 100 %" in err


def test_a_conflict_in_the_middle_is_re_read_and_retried(deployed):
    fake, rollout = deployed
    fake.before_patch += [lambda: None, fake.edit_concurrently]  # someone writes before step 2
    assert rollout("shift", "--to", V2, *GATE) == 0
    assert len(fake.spec_patches()) == 4 and len(fake.patches()) == 4 + 1 + 1  # retry, verdict
    assert _percents(fake.traffic_history, V2) == [10, 25, 50, 100]


def test_an_api_error_mid_shift_exits_2_and_says_where_traffic_is(deployed, capsys):
    fake, rollout = deployed
    rollout.clock.on_sleep.append(lambda: fake.fail("PATCH", 500, times=3))
    assert rollout("shift", "--to", V2, *GATE) == 2
    err = capsys.readouterr().err
    assert "the API answered 500" in err
    assert f"the API holds {V1} 90 %, {V2} 10 % (read back)" in err
    assert _percents([fake.traffic()], V2) == [10]


def test_a_step_whose_route_fails_is_put_back(deployed, capsys):
    fake, rollout = deployed
    killed = container_exits("", code=137)  # OOMKilled: no termination message
    fake.before_patch.append(lambda: fake.failing_revisions.update({V2: killed}))
    assert rollout("shift", "--to", V2, *GATE) == 1
    assert "step 1 did not take" in capsys.readouterr().err
    assert fake.traffic() == DEPLOYED


def test_an_interrupted_shift_can_be_run_again_and_goes_on_from_where_it_stopped(deployed, capsys):
    fake, rollout = deployed

    def operator_presses_ctrl_c():
        raise KeyboardInterrupt

    rollout.clock.on_sleep.append(operator_presses_ctrl_c)
    assert rollout("shift", "--to", V2, *GATE) == 130
    assert "run `shift` again to go on" in capsys.readouterr().err
    assert _percents([fake.traffic()], V2) == [10]
    assert rollout("shift", "--to", V2, *GATE) == 0
    assert _percents(fake.traffic_history, V2) == [10, 25, 50, 100]
    assert "from 10 % through 25, 50, 100 %" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("shift", "--to", "house-price-v9"), "revision house-price-v9 not found in namespace"),
        (("-s", "nope", "shift", "--to", V2), 'services.serving.knative.dev "nope" not found'),
        (("-s", "nope", "status"), 'services.serving.knative.dev "nope" not found'),
        (("-n", "elsewhere", "rollback"), "could not read service: the API answered 404"),
    ],
)
def test_unknown_revision_or_service_exits_2_without_a_patch(deployed, capsys, args, message):
    fake, rollout = deployed
    assert rollout(*args) == 2
    assert message in capsys.readouterr().err
    assert fake.patches() == []


def test_an_api_server_that_does_not_answer_exits_2_with_a_message(tmp_path, capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        fake = FakeKnative()
        fake.url = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, never listening: refused
        assert cli(fake, tmp_path)("status") == 2
    assert "could not read service: the API server did not answer" in capsys.readouterr().err


def test_shift_dry_run_writes_nothing_and_its_kn_commands_do_the_same(deployed, route, capsys):
    fake, rollout = deployed
    assert rollout("shift", "--to", V2, "--dry-run", *GATE) == 0
    assert [method for method, _ in fake.requests if method != "GET"] == []
    assert route.bodies == [], "a dry run sends no probe either"
    out = capsys.readouterr().out
    commands = _kn_commands(out)
    assert "dry run: nothing was changed" in out
    assert rollout("shift", "--to", V2, *GATE) == 0
    traffic = DEPLOYED
    for command, done in zip(commands, fake.traffic_history, strict=False):
        traffic, _ = kn_applied(command, traffic)
        assert parse_traffic(traffic, None) == parse_traffic(done, None)
    restored, _ = kn_applied(commands[-1], traffic)  # the printed way back
    assert parse_traffic(restored, None) == parse_traffic(DEPLOYED, None)
    assert len(commands) == len(fake.traffic_history) + 1


def test_probe_and_incumbent_urls_override_the_tag_urls(deployed, route, blue_route):
    fake, rollout = deployed
    fake.tag_urls.clear()  # Knative's own tag URLs: unreachable from here
    urls = ["--probe-url", route.url, "--incumbent-url", blue_route.url]
    assert rollout("shift", "--to", V2, "--steps", "50", *urls, *GATE) == 0
    assert _percents([fake.traffic()], V2) == [50]
    assert len(blue_route.bodies) == 3  # the reference rows, in batches of 50


def test_promote_moves_green_to_100_after_one_gate_and_keeps_blue(deployed, route):
    fake, rollout = deployed
    assert rollout("promote", *GATE) == 0
    assert parse_traffic(fake.traffic(), None) == Traffic({V1: 0, V2: 100}, TAGS)
    assert len(fake.spec_patches()) == 1 and len(route.bodies) == QUALITY_REQUESTS + 6


def test_promote_without_a_green_revision_exits_2(fresh, capsys):
    fake, rollout = fresh
    assert rollout("promote") == 2
    assert "no revision is tagged green" in capsys.readouterr().err
    assert fake.patches() == []


def test_rollback_sends_everything_to_blue_in_one_patch_without_probes(deployed, route):
    fake, rollout = deployed
    assert rollout("promote", *GATE) == 0
    route.bodies.clear()
    assert rollout("rollback", "--dry-run") == 0
    assert len(fake.spec_patches()) == 1
    assert rollout("rollback") == 0
    assert fake.traffic() == DEPLOYED
    assert len(fake.spec_patches()) == 2 and route.bodies == []
    assert rollout("rollback") == 0  # nothing left to do
    assert len(fake.spec_patches()) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--steps", "50,10"), "--steps must rise strictly"),
        (("--max-error-ratio", "nan"), "nan: wanted a number within 0..1"),  # would pass every gate
        (("--max-p99-ms", "nan"), "nan: wanted a number at least 0"),
        (("--probe-url", "127.0.0.1:8080"), "wanted an http:// or https:// URL"),
    ],
)
def test_bad_usage_exits_2(deployed, capsys, args, message):
    fake, rollout = deployed
    with pytest.raises(SystemExit) as exited:
        rollout("shift", "--to", V2, *args)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
    assert fake.patches() == []


def test_runs_as_a_module(deployed, tmp_path):
    fake, _ = deployed
    kubeconfig = fake.kubeconfig(tmp_path / "module-kubeconfig")
    command = [sys.executable, "-m", "knative.rollout", "--kubeconfig", kubeconfig, "status"]
    done = subprocess.run([*command, "-o", "json"], cwd=REPO, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["revisions"][0]["name"] == V1


def test_a_rollback_not_live_in_time_exits_2_and_says_it_was_applied(deployed, route, capsys):
    fake, rollout = deployed
    assert rollout("promote", *GATE) == 0
    fake.reconcile_after = 10_000
    assert rollout("rollback", "--timeout", "10s") == 2
    err = capsys.readouterr().err
    assert "is not ready after 10 s" in err and "the rollback is applied but not live yet" in err
    assert fake.traffic() == DEPLOYED


def test_a_gated_run_writes_its_report_and_leaves_its_verdict_for_status(deployed, capsys):
    fake, rollout = deployed
    assert rollout("shift", "--to", V2, "--steps", "50", "--report", "out/shift.json", *GATE) == 0
    out = capsys.readouterr().out
    assert "quality  -     ok      9 req" in out and "verdict: passed" in out
    report = json.loads(Path("out/shift.json").read_text())
    assert (report["command"], report["candidate"], report["incumbent"]) == ("shift", V2, V1)
    assert report["start_traffic"] == {V1: 100, V2: 0} and report["final_traffic"] == {
        V1: 50,
        V2: 50,
    }
    assert [(gate["gate"], gate["passed"]) for gate in report["gates"]] == [
        ("probes", True),
        ("quality", True),
    ]
    rmse = report["gates"][1]["checks"][0]
    assert rmse["name"] == "RMSE" and rmse["numbers"]["card"] == pytest.approx(3.705, abs=1e-3)
    assert report["verdict"] == "passed" and report["reason"] is None
    assert rollout("status") == 0
    assert f"last gated rollout: passed (shift {V2}, finished " in capsys.readouterr().out
    assert rollout("status", "-o", "json") == 0
    last = json.loads(capsys.readouterr().out)["last_rollout"]
    assert (last["verdict"], last["traffic"], last["report"]) == (
        "passed",
        {V1: 50, V2: 50},
        "out/shift.json",
    )


def test_a_failed_gate_is_the_verdict_on_the_service_with_its_reason(deployed, route, capsys):
    fake, rollout = deployed
    route.status = 503
    assert rollout("promote", *GATE) == 1
    assert json.loads(Path("reports/rollout-promote.json").read_text())["verdict"] == "failed"
    assert rollout("status") == 0
    out = capsys.readouterr().out
    assert f"last gated rollout: failed (promote {V2}, finished " in out
    assert "): gate failed before step 1: 0/5 probes ok" in out


def test_a_dry_run_describes_the_gates_and_records_nothing(deployed, capsys):
    fake, rollout = deployed
    assert rollout("shift", "--to", V2, "--dry-run", *GATE) == 0
    out = capsys.readouterr().out
    assert "gate quality, before any traffic moves: reference rows from" in out
    assert "gate live: off (--prometheus-url turns it on)" in out
    assert not Path("reports").exists() and fake.annotation("house-price/last-rollout") is None


def test_a_report_that_cannot_be_written_stops_the_run_before_anything_moves(deployed, capsys):
    fake, rollout = deployed
    Path("taken").write_text("a file, not a folder")
    assert rollout("shift", "--to", V2, "--report", "taken/shift.json", *GATE) == 2
    assert "cannot write the report taken/shift.json: File exists; nothing was changed" in (
        capsys.readouterr().err
    )
    assert fake.spec_patches() == []
