"""Leader election over a coordination.k8s.io/v1 Lease, the algorithm of client-go's leaderelection.

Every orchestrator replica runs a `LeaderElector`; exactly one holds the Lease and publishes plans, the others
stand by and take over when the holder stops renewing for `lease_duration_s` (measured on the standby's own
monotonic clock from the moment it last saw the record change, so clock skew between nodes does not matter).
A leader that cannot renew within `renew_deadline_s` stops calling itself leader before anyone may take over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from orchestrator.kube.errors import Conflict, KubeError, NotFound
from orchestrator.kube.leases import LeaseRecord, claimed, released

log = logging.getLogger(__name__)


class LeaseApi(Protocol):
    """The three Lease calls the elector makes (`KubeClient` provides them)."""

    def get_lease(self, namespace: str, name: str) -> dict[str, Any]: ...
    def create_lease(self, namespace: str, lease: dict[str, Any]) -> dict[str, Any]: ...
    def replace_lease(self, namespace: str, lease: dict[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ElectionConfig:
    """Where the Lease lives, who we are, and the timing (client-go's defaults: 15 s / 10 s / 2 s)."""

    namespace: str
    lease_name: str
    identity: str
    """Unique per replica: the pod name (the chart passes it through the downward API)."""
    lease_duration_s: int = 15
    """How long a standby waits after the last observed renewal before taking over."""
    renew_deadline_s: float = 10.0
    """How long a leader keeps leading without a successful renewal; must be below lease_duration_s."""
    retry_period_s: float = 2.0
    """Time between attempts to acquire or renew."""
    release_on_stop: bool = True
    """On a clean stop, hand the Lease back so a standby takes over at once."""

    def __post_init__(self) -> None:
        if not self.identity:
            raise ValueError(
                "leader election needs a non-empty identity (set POD_NAME from the downward API)"
            )
        if self.lease_duration_s < 1 or not self.renew_deadline_s < self.lease_duration_s:
            raise ValueError(
                f"need lease_duration_s >= 1 and renew_deadline_s < lease_duration_s, got "
                f"{self.lease_duration_s} and {self.renew_deadline_s}"
            )
        if not 0 < self.retry_period_s < self.renew_deadline_s:
            raise ValueError(
                f"need 0 < retry_period_s < renew_deadline_s, got {self.retry_period_s} "
                f"and {self.renew_deadline_s}"
            )


def _utcnow() -> datetime:
    return datetime.now(UTC)


Callback = Callable[[], None]


class LeaderElector:
    """Acquires and renews the Lease; `is_leader` says whether this replica may act as leader right now.

    `try_acquire_or_renew()` is one synchronous round (tests drive it with a fake clock); `run()` is the
    asyncio loop the orchestrator starts when it runs in a cluster. Callbacks run on the event loop thread.
    """

    def __init__(
        self,
        api: LeaseApi,
        config: ElectionConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = _utcnow,
        on_started_leading: Callback | None = None,
        on_stopped_leading: Callback | None = None,
        on_new_leader: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self._api = api
        self._clock = clock
        self._wall_clock = wall_clock
        self._on_started = on_started_leading
        self._on_stopped = on_stopped_leading
        self._on_new_leader = on_new_leader
        self._observed: LeaseRecord | None = None
        self._observed_at = 0.0
        self._renewed_at: float | None = None
        self._reported_leading = False
        self._reported_holder = ""

    @property
    def is_leader(self) -> bool:
        """True while the last successful renewal is younger than the renew deadline."""
        return (
            self._renewed_at is not None and self._clock() - self._renewed_at < self.config.renew_deadline_s
        )

    @property
    def leader(self) -> str | None:
        """The holder identity last observed on the Lease (None before the first read or when released)."""
        return self._observed.holder if self._observed is not None and self._observed.holder else None

    def try_acquire_or_renew(self) -> bool:
        """One round: read the Lease, then create, take over or renew it if allowed. True when we hold it."""
        cfg = self.config
        now_mono, now = self._clock(), self._wall_clock()
        try:
            current: LeaseRecord | None = LeaseRecord.from_wire(
                self._api.get_lease(cfg.namespace, cfg.lease_name)
            )
        except NotFound:
            current = None
        except KubeError as exc:
            log.warning("leader election: reading Lease %s failed: %s", cfg.lease_name, exc)
            return False
        if current is not None:
            self._observe(current, now_mono)
            if current.holder not in ("", cfg.identity) and now_mono < self._observed_at + current.duration_s:
                return False
        wanted = claimed(current, cfg.lease_name, cfg.identity, cfg.lease_duration_s, now)
        try:
            if current is None:
                stored = self._api.create_lease(cfg.namespace, wanted.to_wire())
            else:
                stored = self._api.replace_lease(cfg.namespace, wanted.to_wire())
        except Conflict as exc:
            log.info("leader election: lost a race for Lease %s: %s", cfg.lease_name, exc)
            return False
        except KubeError as exc:
            log.warning("leader election: writing Lease %s failed: %s", cfg.lease_name, exc)
            return False
        self._observe(LeaseRecord.from_wire(stored), now_mono)
        self._renewed_at = now_mono
        return True

    def release(self) -> bool:
        """Hand the Lease back (holder "", duration 1 s) if we hold it; True when the write succeeded."""
        observed, self._renewed_at = self._observed, None
        if observed is None or observed.holder != self.config.identity:
            return False
        try:
            stored = self._api.replace_lease(
                self.config.namespace, released(observed, self._wall_clock()).to_wire()
            )
        except KubeError as exc:
            log.warning("leader election: releasing Lease %s failed: %s", self.config.lease_name, exc)
            return False
        self._observe(LeaseRecord.from_wire(stored), self._clock())
        return True

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Acquire-or-renew every retry period until `stop` is set (or the task is cancelled); release."""
        stop = stop or asyncio.Event()
        try:
            while not stop.is_set():
                await asyncio.to_thread(self.try_acquire_or_renew)
                self.notify()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.config.retry_period_s)
        finally:
            if self.config.release_on_stop:
                await asyncio.to_thread(self.release)
            self._renewed_at = None
            self.notify()

    def notify(self) -> None:
        """Fire the callbacks for what changed since the last call (leadership gained or lost, new holder)."""
        holder = self.leader or ""
        if holder and holder != self._reported_holder and self._on_new_leader is not None:
            self._on_new_leader(holder)
        self._reported_holder = holder
        leading = self.is_leader
        if leading != self._reported_leading:
            self._reported_leading = leading
            callback = self._on_started if leading else self._on_stopped
            log.info(
                "leader election: %s %s leading", self.config.identity, "started" if leading else "stopped"
            )
            if callback is not None:
                callback()

    def _observe(self, record: LeaseRecord, now_mono: float) -> None:
        """Remember the record; the lapse timer restarts whenever it changed (a new resourceVersion)."""
        if self._observed is None or record.resource_version != self._observed.resource_version:
            self._observed_at = now_mono
        self._observed = record
