"""The rollout Lease through the real kubernetes client, against the fake API over HTTP."""

import time

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from knative.errors import Superseded
from knative.kube.calls import Calls, connect
from knative.lease.lease import LEASE_SECONDS, Lease
from tests.rollout.fake_knative_api import FakeKnative
from tests.rollout.fake_leases import MICRO_TIME
from tests.support.fake_clock import FakeClock

NAME = "house-price-rollout"
ME, ALICE = "me@here/1", "alice@laptop/4242"


@pytest.fixture
def fake():
    with FakeKnative.started() as started:
        yield started


@pytest.fixture
def api_client(fake, tmp_path):
    with connect(fake.kubeconfig(tmp_path / "kubeconfig"), None) as api_client:
        yield api_client


def lease_of(api_client, identity: str = ME) -> Lease:
    return Lease(api_client, "house-price", "house-price", Calls(FakeClock(), 0.5), identity)


def spec(fake) -> dict:
    return fake.leases.leases[NAME]["spec"]


def test_a_lease_is_created_held_and_released(fake, api_client):
    lease = lease_of(api_client)
    assert lease.take(force=False) is None
    held = spec(fake)
    assert (held["holderIdentity"], held["leaseDurationSeconds"]) == (ME, LEASE_SECONDS)
    assert MICRO_TIME.fullmatch(held["renewTime"]) and held["acquireTime"] == held["renewTime"]
    assert lease.holder() == ME
    lease.release()
    assert "holderIdentity" not in spec(fake) and spec(fake)["leaseDurationSeconds"] == 1
    assert lease_of(api_client, ALICE).take(force=False) is None  # free again at once


def test_a_live_lease_of_someone_else_is_refused_and_left_alone(fake, api_client):
    fake.leases.hold(NAME, ALICE, renewed_ago=5)
    before = dict(spec(fake))
    with pytest.raises(Superseded) as refused:
        lease_of(api_client).take(force=False)
    message = str(refused.value)
    assert "another rollout command is changing service house-price" in message
    assert (
        f"lease house-price/{NAME} is held by {ALICE} (renewed 5 s ago, expires in 25 s" in message
    )
    assert spec(fake) == before
    lease_of(api_client).release()  # not ours: released by nobody
    assert spec(fake) == before


def test_an_expired_lease_is_taken_over(fake, api_client):
    fake.leases.hold(NAME, ALICE, renewed_ago=LEASE_SECONDS + 1)
    note = lease_of(api_client).take(force=False)
    assert note == f"took over the expired lease of {ALICE} (renewed 31 s ago)"
    assert spec(fake)["holderIdentity"] == ME


def test_a_forced_take_wins_over_a_live_holder_and_says_so(fake, api_client):
    fake.leases.hold(NAME, ALICE, renewed_ago=2)
    note = lease_of(api_client).take(force=True)
    assert note.startswith(f"took the lease from {ALICE} (renewed 2 s ago)")
    assert spec(fake)["holderIdentity"] == ME


def test_of_two_takers_one_wins_and_the_other_is_refused(fake, api_client):
    fake.leases.hold(NAME, "crashed@ci/7", renewed_ago=600)
    # Alice takes the expired lease between our read and our write: ours answers 409.
    fake.leases.before_write.append(lambda: fake.leases.hold(NAME, ALICE))
    with pytest.raises(Superseded, match=f"held by {ALICE}"):
        lease_of(api_client).take(force=False)
    assert [write["spec"]["holderIdentity"] for write in fake.leases.writes][-1] == ALICE
    assert ("PUT", f"/apis/coordination.k8s.io/v1/namespaces/house-price/leases/{NAME}") in (
        fake.requests
    )


def test_the_lease_is_renewed_while_the_command_runs(fake, api_client):
    lease = lease_of(api_client)
    lease.seconds = 1  # renewed every third of a second
    lease.take(force=False)
    first = spec(fake)["renewTime"]
    with lease.renewed():
        deadline = time.monotonic() + 5
        while spec(fake)["renewTime"] == first and time.monotonic() < deadline:
            time.sleep(0.05)
    assert spec(fake)["renewTime"] > first
    assert spec(fake)["acquireTime"] == first  # renewing is not acquiring again


def test_renewal_stops_once_someone_took_the_lease(fake, api_client):
    lease = lease_of(api_client)
    lease.seconds = 1
    lease.take(force=False)
    with lease.renewed():
        fake.leases.hold(NAME, ALICE)
        time.sleep(0.7)  # two renewal periods
    assert spec(fake)["holderIdentity"] == ALICE


def test_the_fake_serves_leases_as_the_api_server_does(fake, api_client):
    leases = client.CoordinationV1Api(api_client)
    body = {"metadata": {"name": "x"}, "spec": {"holderIdentity": ME, "leaseDurationSeconds": 9}}
    created = leases.create_namespaced_lease("house-price", body)
    with pytest.raises(ApiException) as exists:
        leases.create_namespaced_lease("house-price", body)
    assert exists.value.status == 409
    stale = {"metadata": {"resourceVersion": "1"}, "spec": {"holderIdentity": ALICE}}
    with pytest.raises(ApiException) as conflict:
        leases.patch_namespaced_lease("x", "house-price", stale)
    assert conflict.value.status == 409
    fresh = stale | {"metadata": {"resourceVersion": created.metadata.resource_version}}
    assert leases.patch_namespaced_lease("x", "house-price", fresh).spec.holder_identity == ALICE
    latest = leases.read_namespaced_lease("x", "house-price").metadata.resource_version
    whole_second = {
        "metadata": {"name": "x", "resourceVersion": latest},
        "spec": {"renewTime": "2026-01-01T00:00:00+00:00"},  # what the client sends for .000000
    }
    with pytest.raises(ApiException) as unparsed:
        leases.replace_namespaced_lease("x", "house-price", whole_second)
    assert unparsed.value.status == 400
