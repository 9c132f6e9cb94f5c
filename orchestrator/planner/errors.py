"""The planner's errors, classed by what the caller does next: fix the file, or relax a limit."""

from __future__ import annotations

__all__ = ["Infeasible", "ScenarioError"]


class ScenarioError(ValueError):
    """A scenario the planner cannot use; the message names the path in the file and what to change."""


class Infeasible(ScenarioError):
    """A valid scenario whose limits no plan meets; the message names the binding limit."""
