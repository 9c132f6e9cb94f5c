"""Profile corrections (pure): EWMA of measured/predicted time per tier and link, and drift detection.

Every served request reports per-segment compute and per-hop transfer times. Their ratio to what the profile
predicted is smoothed per key (a tier such as "edge", or a link such as "device->edge"). The factor corrects
future predictions; a factor far from 1 for long enough is drift, and the agent asks for a re-profile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["Drift", "ProfileCorrections"]


@dataclass(frozen=True)
class Drift:
    """A key whose measurements left the profile's tolerance: re-profile it."""

    key: str
    factor: float
    samples: int

    @property
    def reason(self) -> str:
        """One line for logs and the re-profile request."""
        return f"{self.key} runs {self.factor:.2f}x its profile over {self.samples} samples"


@dataclass
class ProfileCorrections:
    """EWMA correction factors with drift detection.

    `alpha` weighs the newest sample; drift is a factor beyond `drift_ratio` (or below its inverse) once a
    key has `min_samples` samples.
    """

    alpha: float = 0.2
    drift_ratio: float = 1.5
    min_samples: int = 5
    _factors: dict[str, float] = field(default_factory=dict)
    _samples: dict[str, int] = field(default_factory=dict)

    def observe(self, key: str, predicted_ms: float, measured_ms: float) -> None:
        """Fold one measurement into `key`'s factor; predictions of 0 (nothing expected) are ignored."""
        if predicted_ms <= 0 or not math.isfinite(measured_ms) or measured_ms < 0:
            return
        ratio = measured_ms / predicted_ms
        previous = self._factors.get(key)
        self._factors[key] = ratio if previous is None else previous + self.alpha * (ratio - previous)
        self._samples[key] = self._samples.get(key, 0) + 1

    def factor(self, key: str) -> float:
        """The smoothed measured/predicted ratio of `key` (1.0 before any sample)."""
        return self._factors.get(key, 1.0)

    def corrected(self, key: str, predicted_ms: float) -> float:
        """`predicted_ms` corrected by what `key` has been measured to do."""
        return predicted_ms * self.factor(key)

    def drifted(self) -> tuple[Drift, ...]:
        """Keys whose factor left [1/drift_ratio, drift_ratio] after enough samples."""
        return tuple(
            Drift(key, factor, self._samples[key])
            for key, factor in sorted(self._factors.items())
            if self._samples[key] >= self.min_samples
            and not (1.0 / self.drift_ratio <= factor <= self.drift_ratio)
        )

    def reset(self, key: str) -> None:
        """Forget `key` (after a re-profile replaced its figures)."""
        self._factors.pop(key, None)
        self._samples.pop(key, None)
