"""When a better plan is better enough to switch to: relative and absolute margins plus a dwell time.

Pure: values and times come in, a `Decision` with its reason comes out. Lower values are better
(latency in ms, cost in USD, energy in J: whatever the objective measures).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Decision", "HysteresisPolicy"]


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether to switch, and a sentence saying why (recorded with every decision)."""

    switch: bool
    reason: str


@dataclass(frozen=True, slots=True)
class HysteresisPolicy:
    """A candidate replaces the current plan only when it wins by both margins after the dwell time."""

    relative: float = 0.1
    """Required gain as a fraction of the current value."""
    absolute_ms: float = 2.0
    """Required gain in the objective's unit (named for the default objective, latency)."""
    min_dwell_s: float = 2.0
    """Minimum time since the last switch."""

    def __post_init__(self) -> None:
        if self.relative < 0 or self.absolute_ms < 0 or self.min_dwell_s < 0:
            raise ValueError("hysteresis margins and dwell time must be >= 0")

    def should_switch(
        self, current_value: float, candidate_value: float, now_s: float, last_switch_s: float | None
    ) -> Decision:
        """Decide on one candidate. A current plan that is infeasible (inf/nan) is always left."""
        if current_value != current_value or current_value == float("inf"):
            return Decision(True, "the current plan is no longer feasible")
        gain = current_value - candidate_value
        if gain <= 0:
            return Decision(
                False, f"candidate {candidate_value:.3g} is not better than current {current_value:.3g}"
            )
        needed = max(self.relative * abs(current_value), self.absolute_ms)
        if gain < needed:
            return Decision(
                False,
                f"gain {gain:.3g} below the hysteresis bound {needed:.3g} "
                f"(max of {self.relative:.0%} of {current_value:.3g} and {self.absolute_ms:g})",
            )
        if last_switch_s is not None and now_s - last_switch_s < self.min_dwell_s:
            return Decision(
                False,
                f"gain {gain:.3g} but only {now_s - last_switch_s:.1f}s since the last switch "
                f"(dwell {self.min_dwell_s:g}s)",
            )
        return Decision(
            True, f"gain {gain:.3g} ({gain / abs(current_value):.0%}) beats the bound {needed:.3g}"
        )
