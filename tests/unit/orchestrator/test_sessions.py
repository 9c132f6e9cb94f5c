"""The session state machine: births, deaths with bdSeq, telemetry checks, staleness (fake clock)."""

from __future__ import annotations

from orchestrator.fleet.sessions import Session, SessionPolicy, on_birth, on_death, on_telemetry, sweep

POLICY = SessionPolicy(stale_after_s=10.0, offline_after_s=60.0, rebirth_backoff_s=5.0)


def born(bd_seq: int = 1, now: float = 100.0) -> Session:
    session = Session("dev", "fleet")
    on_birth(session, bd_seq, now)
    return session


def test_birth_starts_an_online_session() -> None:
    session = Session("dev", "fleet")
    t = on_birth(session, 7, 100.0)
    assert (t.before, t.after, session.bd_seq) == ("offline", "online", 7)
    assert t.outcome == "new_session"


def test_death_with_the_session_bdseq_ends_it() -> None:
    session = born(3)
    t = on_death(session, 3, 101.0)
    assert t.after == "offline"
    assert session.state == "offline"


def test_stale_death_does_not_end_newer_session() -> None:
    session = born(3)
    on_birth(session, 4, 101.0)
    t = on_death(session, 3, 102.0)
    assert t.outcome == "stale_death"
    assert session.state == "online"
    assert session.bd_seq == 4


def test_death_that_overtakes_its_rebirth_still_ends_that_session() -> None:
    session = born(3)
    assert on_death(session, 4, 101.0).outcome == "stale_death"
    t = on_birth(session, 4, 101.5)
    assert t.after == "offline"
    assert session.state == "offline"


def test_a_later_birth_after_an_overtaking_death_is_online() -> None:
    session = born(3)
    on_death(session, 4, 101.0)
    on_birth(session, 4, 101.5)
    assert on_birth(session, 5, 102.0).after == "online"


def test_repeated_birth_keeps_the_session_and_its_seq() -> None:
    session = born(3)
    on_telemetry(session, 3, 0, False, 101.0, POLICY)
    t = on_birth(session, 3, 102.0)
    assert t.outcome == "duplicate"
    assert session.last_seq == 0


def test_retained_birth_is_stale_until_telemetry_confirms_it() -> None:
    session = Session("dev", "fleet")
    assert on_birth(session, 9, 100.0, retained=True).after == "stale"
    assert on_telemetry(session, 9, 0, False, 101.0, POLICY).after == "online"


def test_a_retained_birth_repeating_the_current_session_keeps_it_without_a_rebirth() -> None:
    session = born(3)
    on_telemetry(session, 3, 0, False, 101.0, POLICY)
    t = on_birth(session, 3, 102.0, retained=True)
    assert (t.outcome, t.after, t.rebirth) == ("duplicate", "online", False)
    assert session.last_seq == 0


def test_consecutive_telemetry_is_accepted_and_wraps_at_256() -> None:
    session = born(1)
    outcomes = [
        on_telemetry(session, 1, seq % 256, False, 100.0 + i, POLICY).outcome
        for i, seq in enumerate(range(250, 262))
    ]
    assert set(outcomes) == {"accepted"}


def test_seq_gap_asks_for_rebirth_once_per_backoff() -> None:
    session = born(1)
    on_telemetry(session, 1, 0, False, 100.0, POLICY)
    first = on_telemetry(session, 1, 5, False, 101.0, POLICY)
    second = on_telemetry(session, 1, 9, False, 102.0, POLICY)
    third = on_telemetry(session, 1, 20, False, 107.0, POLICY)
    assert (first.outcome, first.rebirth) == ("gap", True)
    assert (second.outcome, second.rebirth) == ("gap", False)
    assert third.rebirth is True


def test_telemetry_from_unknown_device_asks_for_rebirth() -> None:
    session = Session("dev", "fleet")
    t = on_telemetry(session, 1, 0, False, 100.0, POLICY)
    assert (t.outcome, t.rebirth, t.after) == ("unknown_device", True, "offline")


def test_telemetry_with_another_bdseq_asks_for_rebirth_and_is_not_used() -> None:
    session = born(2)
    t = on_telemetry(session, 1, 0, False, 101.0, POLICY)
    assert (t.outcome, t.rebirth) == ("bd_seq_mismatch", True)
    assert session.last_seq is None


def test_duplicate_seq_is_ignored() -> None:
    session = born(1)
    on_telemetry(session, 1, 4, False, 100.0, POLICY)
    assert on_telemetry(session, 1, 4, False, 100.5, POLICY).outcome == "duplicate"


def test_historical_telemetry_never_changes_the_session() -> None:
    session = born(1)
    t = on_telemetry(session, 99, 200, True, 500.0, POLICY)
    assert t.outcome == "historical"
    assert session.last_seen_s == 100.0


def test_silence_makes_a_device_stale_then_offline() -> None:
    session = born(1, now=100.0)
    assert sweep(session, 109.0, POLICY) is None
    stale = sweep(session, 110.0, POLICY)
    assert stale is not None
    assert stale.after == "stale"
    offline = sweep(session, 160.0, POLICY)
    assert offline is not None
    assert offline.after == "offline"


def test_telemetry_brings_a_stale_device_back_online() -> None:
    session = born(1, now=100.0)
    sweep(session, 111.0, POLICY)
    assert on_telemetry(session, 1, 0, False, 112.0, POLICY).after == "online"


def test_telemetry_from_an_ended_session_does_not_ask_for_rebirth() -> None:
    session = born(1)
    on_death(session, 1, 101.0)
    t = on_telemetry(session, 1, 3, False, 101.1, POLICY)
    assert (t.outcome, t.rebirth) == ("offline_device", False)
