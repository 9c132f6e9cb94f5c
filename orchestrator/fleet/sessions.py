"""The per-device session state machine (Sparkplug-style births and deaths), pure and clock-free.

A birth starts a session identified by its bdSeq; a death ends the session only when its bdSeq
matches. Deaths whose bdSeq matches no current session are remembered (a few per device), so that
a death which overtakes its own birth (the broker delivers topics independently) still ends that
session when the birth arrives. Telemetry from an unknown device, with another bdSeq, or with a gap
in seq asks the device for a rebirth (rate-limited). A device silent for `stale_after_s` is stale
(its state is not used for placement); silent for `offline_after_s`, offline.
Time is always passed in (`now_s`, seconds), so tests drive it with plain numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "DeviceState",
    "Session",
    "SessionPolicy",
    "TelemetryOutcome",
    "Transition",
    "on_birth",
    "on_death",
    "on_telemetry",
    "sweep",
]

DeviceState = Literal["online", "stale", "offline"]
TelemetryOutcome = Literal[
    "accepted", "gap", "duplicate", "historical", "unknown_device", "bd_seq_mismatch", "offline_device"
]
_TOMBSTONES = 4


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """Bounds of the state machine."""

    stale_after_s: float = 10.0
    offline_after_s: float = 120.0
    rebirth_backoff_s: float = 5.0


@dataclass(slots=True)
class Session:
    """What the orchestrator knows about one device's session. Mutated only by this module."""

    device_id: str
    fleet: str
    state: DeviceState = "offline"
    bd_seq: int | None = None
    last_seq: int | None = None
    last_seen_s: float = 0.0
    born_s: float = 0.0
    ended_bd_seqs: list[int] = field(default_factory=list)
    last_rebirth_request_s: float | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    """What one input did: the state before and after, whether to ask for a rebirth, and why."""

    before: DeviceState
    after: DeviceState
    rebirth: bool
    reason: str
    outcome: str

    @property
    def changed(self) -> bool:
        """True when the device's state changed."""
        return self.before != self.after


def _want_rebirth(session: Session, now_s: float, policy: SessionPolicy) -> bool:
    last = session.last_rebirth_request_s
    if last is not None and now_s - last < policy.rebirth_backoff_s:
        return False
    session.last_rebirth_request_s = now_s
    return True


def _remember_death(session: Session, bd_seq: int) -> None:
    if bd_seq in session.ended_bd_seqs:
        return
    session.ended_bd_seqs.append(bd_seq)
    del session.ended_bd_seqs[:-_TOMBSTONES]


def on_birth(session: Session, bd_seq: int, now_s: float, retained: bool = False) -> Transition:
    """A birth: a new session starts, unless a death with this bdSeq already arrived (it overtook).

    A retained birth (replayed by the broker, not sent just now) may belong to a device that died
    without a will reaching us: its session starts stale until telemetry confirms it.
    """
    before = session.state
    session.last_seen_s = max(session.last_seen_s, now_s)
    if bd_seq in session.ended_bd_seqs:
        session.bd_seq = bd_seq
        session.state = "offline"
        return Transition(
            before, "offline", False, f"birth bdSeq={bd_seq} already ended by its death", "ended"
        )
    duplicate = session.bd_seq == bd_seq and before != "offline"
    session.bd_seq = bd_seq
    session.state = "online" if duplicate or not retained else "stale"
    if not duplicate:
        session.last_seq = None
        session.born_s = now_s
    reason = f"birth bdSeq={bd_seq}" + (" (repeated)" if duplicate else " (retained)" if retained else "")
    return Transition(before, session.state, False, reason, "duplicate" if duplicate else "new_session")


def on_death(session: Session, bd_seq: int, now_s: float) -> Transition:
    """A death: ends the session whose bdSeq it carries; any other bdSeq is remembered, not applied."""
    before = session.state
    _remember_death(session, bd_seq)
    if session.bd_seq == bd_seq and before != "offline":
        session.state = "offline"
        session.last_seen_s = max(session.last_seen_s, now_s)
        return Transition(before, "offline", False, f"death bdSeq={bd_seq}", "ended")
    current = "none" if session.bd_seq is None else str(session.bd_seq)
    return Transition(
        before, before, False, f"stale death bdSeq={bd_seq} ignored (session bdSeq={current})", "stale_death"
    )


def on_telemetry(
    session: Session,
    bd_seq: int,
    seq: int,
    historical: bool,
    now_s: float,
    policy: SessionPolicy,
) -> Transition:
    """Telemetry: refreshes a live session; unknown sessions, other bdSeqs and seq gaps ask for rebirth."""
    before = session.state
    if historical:
        return Transition(before, before, False, "historical telemetry is recorded, not used", "historical")
    if session.bd_seq is None:
        return Transition(
            before, before, _want_rebirth(session, now_s, policy), "unknown device", "unknown_device"
        )
    if before == "offline":
        rebirth = bd_seq not in session.ended_bd_seqs and _want_rebirth(session, now_s, policy)
        return Transition(before, before, rebirth, "telemetry from an offline device", "offline_device")
    if bd_seq != session.bd_seq:
        return Transition(
            before,
            before,
            _want_rebirth(session, now_s, policy),
            f"telemetry bdSeq={bd_seq} but session bdSeq={session.bd_seq}",
            "bd_seq_mismatch",
        )
    session.last_seen_s = max(session.last_seen_s, now_s)
    session.state = "online"
    last = session.last_seq
    session.last_seq = seq
    if last is not None and seq == last:
        session.last_seq = last
        return Transition(before, "online", False, f"duplicate seq {seq}", "duplicate")
    if last is not None and seq != (last + 1) % 256:
        rebirth = _want_rebirth(session, now_s, policy)
        return Transition(before, "online", rebirth, f"seq gap: {last} then {seq}", "gap")
    return Transition(before, "online", False, "telemetry", "accepted")


def sweep(session: Session, now_s: float, policy: SessionPolicy) -> Transition | None:
    """Apply the staleness bounds; returns a transition only when the state changes."""
    if session.state == "offline":
        return None
    silent = now_s - session.last_seen_s
    if silent >= policy.offline_after_s:
        before = session.state
        session.state = "offline"
        return Transition(before, "offline", False, f"silent for {silent:.0f}s", "expired")
    if session.state == "online" and silent >= policy.stale_after_s:
        session.state = "stale"
        return Transition("online", "stale", False, f"silent for {silent:.1f}s", "stale")
    return None
