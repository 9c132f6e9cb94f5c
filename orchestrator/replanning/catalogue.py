"""The models the orchestrator plans, as base continuum.scenario/v1 documents built from config.

A model's profile comes from (in order) a scenario file named in config, the shipped profiles of the
inference library (`continuum_inference.profiles.load_profile`), or an example scenario under examples/ whose
model has that name. Tiers' prices come from the configured tiers; links start at typical values and
are replaced per device by its telemetry. A model with no profile is skipped with a warning (it
cannot be planned) rather than guessed.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from orchestrator.settings import ModelSettings, OrchestratorSettings

__all__ = ["DEFAULT_LINKS", "base_scenario", "find_model", "scenario_documents"]

log = logging.getLogger(__name__)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

DEFAULT_LINKS: dict[str, dict[str, float]] = {
    "device->edge": {"bandwidth_mbps": 20.0, "rtt_ms": 8.0},
    "edge->device": {"bandwidth_mbps": 60.0, "rtt_ms": 8.0},
    "edge->cloud": {"bandwidth_mbps": 500.0, "rtt_ms": 30.0, "cost_per_gb": 0.02},
    "cloud->edge": {"bandwidth_mbps": 500.0, "rtt_ms": 30.0},
    "device->cloud": {"bandwidth_mbps": 10.0, "rtt_ms": 60.0},
    "cloud->device": {"bandwidth_mbps": 30.0, "rtt_ms": 60.0},
}


def _load_doc(path: Path) -> dict[str, Any]:
    text = path.read_text()
    if path.suffix in (".yaml", ".yml"):
        import yaml

        loaded: Any = yaml.safe_load(text)
    else:
        loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: not a scenario document")
    return loaded


def find_model(model: ModelSettings) -> dict[str, Any] | None:
    """The `model` section for a configured model, or None when no profile can be found."""
    if model.scenario:
        section = _load_doc(Path(model.scenario)).get("model")
        if not isinstance(section, dict):
            raise ValueError(f"{model.scenario}: no model section")
        return {**section, "name": model.name}
    name = model.profile or model.name
    try:
        from continuum_inference.profiles import load_profile

        found: dict[str, Any] = dict(load_profile(name))
        return {**found, "name": model.name}
    except (ImportError, KeyError, FileNotFoundError, ValueError) as exc:
        log.debug("no shipped profile for %s: %s", name, exc)
    if EXAMPLES.is_dir():
        for path in sorted(EXAMPLES.glob("*.json")):
            try:
                section = _load_doc(path).get("model")
            except (ValueError, OSError):
                continue
            if isinstance(section, dict) and section.get("name") == name:
                return {**section, "name": model.name}
    return None


def base_scenario(model: dict[str, Any], settings: OrchestratorSettings) -> dict[str, Any]:
    """A full scenario document for `model` with the configured tiers' prices and default links."""
    price = {t.tier: t.cost_per_hour for t in settings.tiers}
    return {
        "format": "continuum.scenario/v1",
        "model": model,
        "tiers": {
            "device": {"cost_per_hour": 0.0, "power_w": 3.0, "tx_power_w": 1.2},
            "edge": {"cost_per_hour": price.get("edge", 0.5)},
            "cloud": {"cost_per_hour": price.get("cloud", 3.0)},
        },
        "links": {name: dict(values) for name, values in DEFAULT_LINKS.items()},
        "objective": {"minimize": settings.replanning.objective},
    }


def scenario_documents(settings: OrchestratorSettings) -> dict[str, dict[str, Any]]:
    """Model name -> base scenario document, for every configured model that has a profile."""
    documents: dict[str, dict[str, Any]] = {}
    for model in settings.models:
        section = find_model(model)
        if section is None:
            log.warning(
                "model %s has no profile (no scenario file, shipped profile or example); not planned",
                model.name,
            )
            continue
        documents[model.name] = base_scenario(section, settings)
    return documents
