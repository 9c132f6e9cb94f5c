"""Leader election over a coordination.k8s.io/v1 Lease.

No Kubernetes API server can run here, so these tests use a real `kubernetes.client.ApiClient` against a
local HTTP server (tests/contract/kube/apiserver.py) that speaks the API's wire format for the Lease calls:
GET, POST with 409 AlreadyExists, PUT with 409 Conflict on a stale resourceVersion, strict MicroTime times.
Time is a fake clock in the step-by-step tests; the asyncio loop test uses sub-second durations.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from orchestrator.kube import ElectionConfig, KubeClient, LeaderElector, LeaseRecord
from tests.contract.kube.apiserver import MICRO_TIME, FakeApiServer

pytestmark = pytest.mark.contract

NS, LEASE = "continuum", "continuum-leader"


class FakeClock:
    """Monotonic seconds and wall time that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.epoch = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> float:
        return self.now

    def wall(self) -> datetime:
        return self.epoch + timedelta(seconds=self.now)

    def advance(self, seconds: float) -> None:
        self.now += seconds


def elector(kube: KubeClient, identity: str, clock: FakeClock, **kwargs: object) -> LeaderElector:
    config = ElectionConfig(NS, LEASE, identity, lease_duration_s=15, renew_deadline_s=10, retry_period_s=2)
    return LeaderElector(kube, config, clock=clock, wall_clock=clock.wall, **kwargs)  # type: ignore[arg-type]


def stored(apiserver: FakeApiServer) -> LeaseRecord:
    return LeaseRecord.from_wire(apiserver.state.leases[(NS, LEASE)])


def test_first_candidate_creates_the_lease_and_leads(apiserver: FakeApiServer, kube: KubeClient) -> None:
    clock = FakeClock()
    a = elector(kube, "pod-a", clock)

    assert a.try_acquire_or_renew()

    assert a.is_leader
    assert a.leader == "pod-a"
    record = stored(apiserver)
    assert (record.holder, record.duration_s, record.transitions) == ("pod-a", 15, 0)
    assert [r.method for r in apiserver.requests()] == ["GET", "POST"]


def test_second_candidate_stands_by_while_the_lease_is_renewed(
    apiserver: FakeApiServer, kube: KubeClient
) -> None:
    clock = FakeClock()
    a, b = elector(kube, "pod-a", clock), elector(kube, "pod-b", clock)
    assert a.try_acquire_or_renew()
    for _ in range(20):
        assert not b.try_acquire_or_renew()
        clock.advance(2)
        assert a.try_acquire_or_renew()

    assert a.is_leader
    assert not b.is_leader
    assert b.leader == "pod-a"
    assert stored(apiserver).holder == "pod-a"


def test_standby_takes_over_when_the_lease_lapses(apiserver: FakeApiServer, kube: KubeClient) -> None:
    clock = FakeClock()
    a, b = elector(kube, "pod-a", clock), elector(kube, "pod-b", clock)
    assert a.try_acquire_or_renew()
    assert not b.try_acquire_or_renew()

    clock.advance(14.9)  # pod-a has crashed: no renewals, but the lease has not lapsed for pod-b yet
    assert not b.try_acquire_or_renew()
    clock.advance(0.2)
    assert b.try_acquire_or_renew()

    assert b.is_leader
    assert not a.is_leader
    record = stored(apiserver)
    assert (record.holder, record.transitions) == ("pod-b", 1)


def test_leader_that_cannot_renew_steps_down_before_anyone_may_take_over(
    apiserver: FakeApiServer, kube: KubeClient
) -> None:
    clock = FakeClock()
    stopped: list[str] = []
    a = elector(kube, "pod-a", clock, on_stopped_leading=lambda: stopped.append("pod-a"))
    assert a.try_acquire_or_renew()
    a.notify()
    apiserver.state.forbidden.add("lease")  # every Lease call now answers 403

    clock.advance(9.9)
    assert not a.try_acquire_or_renew()
    assert a.is_leader
    clock.advance(0.2)
    a.notify()

    assert not a.is_leader
    assert stopped == ["pod-a"]


def test_two_candidates_racing_for_a_lapsed_lease_elect_exactly_one(
    apiserver: FakeApiServer, kube: KubeClient
) -> None:
    clock = FakeClock()
    old, a, b = (elector(kube, name, clock) for name in ("pod-old", "pod-a", "pod-b"))
    assert old.try_acquire_or_renew()
    assert not a.try_acquire_or_renew()
    assert not b.try_acquire_or_renew()
    clock.advance(16)
    results: dict[str, bool] = {}

    def rival_writes_first(method: str, name: str) -> None:
        apiserver.state.before_write = None
        results["pod-b"] = b.try_acquire_or_renew()  # pod-b reads and writes between pod-a's read and write

    apiserver.state.before_write = rival_writes_first
    results["pod-a"] = a.try_acquire_or_renew()

    assert results == {"pod-b": True, "pod-a": False}
    conflicts = [r for r in apiserver.requests("PUT") if r.body["spec"]["holderIdentity"] == "pod-a"]
    assert len(conflicts) == 1  # pod-a's write carried the stale resourceVersion and got 409 Conflict
    assert stored(apiserver).holder == "pod-b"


def test_candidates_creating_the_lease_at_once_get_409_already_exists(
    apiserver: FakeApiServer, kube: KubeClient
) -> None:
    clock = FakeClock()
    a, b = elector(kube, "pod-a", clock), elector(kube, "pod-b", clock)
    results: dict[str, bool] = {}

    def rival_creates_first(method: str, name: str) -> None:
        apiserver.state.before_write = None
        results["pod-b"] = b.try_acquire_or_renew()

    apiserver.state.before_write = rival_creates_first
    results["pod-a"] = a.try_acquire_or_renew()

    assert results == {"pod-b": True, "pod-a": False}
    assert len(apiserver.requests("POST")) == 2
    assert stored(apiserver).holder == "pod-b"


def test_release_lets_a_standby_take_over_at_once(apiserver: FakeApiServer, kube: KubeClient) -> None:
    clock = FakeClock()
    a, b = elector(kube, "pod-a", clock), elector(kube, "pod-b", clock)
    assert a.try_acquire_or_renew()
    assert not b.try_acquire_or_renew()

    assert a.release()
    assert not a.is_leader
    assert b.try_acquire_or_renew()
    assert stored(apiserver).holder == "pod-b"


def test_lease_times_go_on_the_wire_as_micro_time(apiserver: FakeApiServer, kube: KubeClient) -> None:
    clock = FakeClock()  # whole seconds: a naive isoformat() would drop the fraction the API server requires
    a = elector(kube, "pod-a", clock)
    assert a.try_acquire_or_renew()
    clock.advance(2)
    assert a.try_acquire_or_renew()

    writes = apiserver.requests("POST") + apiserver.requests("PUT")
    assert len(writes) == 2
    for request in writes:
        assert MICRO_TIME.match(request.body["spec"]["renewTime"])
        assert MICRO_TIME.match(request.body["spec"]["acquireTime"])
    assert stored(apiserver).renew_time == clock.wall()


def test_config_refuses_timings_that_allow_two_leaders() -> None:
    with pytest.raises(ValueError, match="renew_deadline_s < lease_duration_s"):
        ElectionConfig(NS, LEASE, "pod-a", lease_duration_s=10, renew_deadline_s=10)
    with pytest.raises(ValueError, match="identity"):
        ElectionConfig(NS, LEASE, "")


async def test_run_loops_elect_one_leader_and_fail_over_when_it_dies(
    apiserver: FakeApiServer, kube: KubeClient
) -> None:
    started: dict[str, asyncio.Event] = {"pod-a": asyncio.Event(), "pod-b": asyncio.Event()}

    def make(identity: str) -> LeaderElector:
        config = ElectionConfig(
            NS,
            LEASE,
            identity,
            lease_duration_s=1,
            renew_deadline_s=0.6,
            retry_period_s=0.1,
            release_on_stop=False,
        )
        return LeaderElector(kube, config, on_started_leading=started[identity].set)

    electors = {name: make(name) for name in started}
    stops = {name: asyncio.Event() for name in started}
    tasks = {name: asyncio.create_task(electors[name].run(stops[name])) for name in started}
    done, _ = await asyncio.wait(
        [asyncio.create_task(e.wait()) for e in started.values()],
        timeout=10,
        return_when=asyncio.FIRST_COMPLETED,
    )
    assert done, "no candidate became leader"
    first = next(name for name in started if started[name].is_set())
    second = next(name for name in started if name != first)
    assert electors[first].is_leader
    assert not electors[second].is_leader

    stops[first].set()  # the leader dies without releasing the Lease
    await tasks[first]
    await asyncio.wait_for(started[second].wait(), timeout=10)

    assert electors[second].is_leader
    assert not electors[first].is_leader
    assert stored(apiserver).holder == second
    stops[second].set()
    await tasks[second]
