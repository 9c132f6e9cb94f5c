"""The shared keepalive ticker, under the name agents and their tests import it by."""

from __future__ import annotations

from continuum_mqtt.ticker import MiscTicker

__all__ = ["MiscTicker"]
