"""The token-bucket link emulator: bytes wait as long as the (trace-driven) rate says, on a fake clock."""

from __future__ import annotations

import pytest

from continuum_inference.linkemu import EmulatedLink, TokenBucket


def test_a_burst_passes_at_once_and_the_rest_waits_for_the_rate() -> None:
    bucket = TokenBucket(lambda _t: 8.0, burst_bytes=1000)  # 8 Mbps = 1e6 bytes/s
    assert bucket.delay_for(1000, now_s=0.0) == 0.0
    assert bucket.delay_for(1_000_000, now_s=0.0) == pytest.approx(1.0)


def test_back_to_back_sends_queue_behind_each_other() -> None:
    bucket = TokenBucket(lambda _t: 8.0, burst_bytes=0)
    assert bucket.delay_for(500_000, now_s=0.0) == pytest.approx(0.5)
    assert bucket.delay_for(500_000, now_s=0.1) == pytest.approx(0.9), "waits behind the first send"


def test_idle_time_refills_the_bucket_up_to_its_burst() -> None:
    bucket = TokenBucket(lambda _t: 8.0, burst_bytes=10_000)
    bucket.delay_for(10_000, now_s=0.0)
    assert bucket.delay_for(10_000, now_s=5.0) == 0.0


def test_rate_follows_the_trace_at_send_time() -> None:
    bucket = TokenBucket(lambda t: 8.0 if t < 10 else 0.8, burst_bytes=0)
    assert bucket.delay_for(100_000, now_s=0.0) == pytest.approx(0.1)
    assert bucket.delay_for(100_000, now_s=20.0) == pytest.approx(1.0)


class FakeTime:
    """A clock that only moves when the emulator sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_emulated_link_charges_half_an_rtt_each_way_and_shapes_bytes() -> None:
    fake = FakeTime()
    link = EmulatedLink(lambda _t: 1.0, None, rtt_ms=40.0, clock=fake.clock, sleep=fake.sleep)
    await link.propagate()
    await link.send(16 * 1024 + 125_000)  # the burst, then 1 s of 1 Mbps
    await link.receive(10**9)  # unshaped downlink: free
    await link.propagate()
    assert fake.now == pytest.approx(0.02 + 1.0 + 0.02)


def test_a_link_that_drops_to_zero_releases_its_bytes_when_the_trace_recovers() -> None:
    # 0 Mbps for the first 2 s, then 8 Mbps (1 MB/s): 100 kB beyond the burst go out 0.1 s after recovery.
    bucket = TokenBucket(lambda t: 0.0 if t < 2.0 else 8.0, burst_bytes=0)
    wait = bucket.delay_for(100_000, 0.0)
    assert wait == pytest.approx(2.1, abs=0.06)
