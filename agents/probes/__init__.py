"""Probes of the device: capabilities (birth), network links and host load (telemetry), pure estimators."""

from __future__ import annotations

from agents.probes.estimators import BandwidthEstimator, LossEstimator, RttEstimator, latency_quantiles

__all__ = ["BandwidthEstimator", "LossEstimator", "RttEstimator", "latency_quantiles"]
