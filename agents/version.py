"""The agent's version, reported in every birth."""

from __future__ import annotations

from importlib import metadata

__all__ = ["agent_version"]


def agent_version() -> str:
    """The installed distribution's version, or "0+unknown" when running from a bare checkout."""
    try:
        return metadata.version("continuum")
    except metadata.PackageNotFoundError:
        return "0+unknown"
