"""Operator actions (pin, unpin, drain, undrain, replan, rebirth) as values: a title, a confirmation
question and the client call that performs it. Keys, the command palette and tests all build the same
values, so an action behaves identically wherever it is triggered."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from tui.client import OperatorClient
from tui.models import ActionResult, DeviceRow
from tui.render import split_label

__all__ = [
    "ACTION_NAMES",
    "OperatorAction",
    "drain_device",
    "drain_site",
    "pin_plan",
    "rebirth",
    "replan",
    "unpin_plan",
]

ACTION_NAMES: frozenset[str] = frozenset(
    {"pin", "unpin", "drain", "drain_site", "replan", "replan_fleet", "rebirth"}
)
"""Textual action names that mutate the fleet; hidden and refused in read-only mode."""


@dataclass(frozen=True, slots=True)
class OperatorAction:
    """A confirmed, mutating request to the orchestrator."""

    title: str
    question: str
    perform: Callable[[OperatorClient], Awaitable[ActionResult]]


async def _each(
    client: OperatorClient,
    models: Sequence[str],
    call: Callable[[OperatorClient, str], Awaitable[ActionResult]],
) -> ActionResult:
    results = [await call(client, model) for model in models]
    if not results:
        return ActionResult(ok=False, message="nothing to do: the device has no plan yet")
    return ActionResult(
        ok=all(r.ok for r in results), message="; ".join(r.message for r in results if r.message)
    )


def pin_plan(device: DeviceRow, model: str | None = None, tiers: tuple[str, ...] = ()) -> OperatorAction:
    """Pin one model's plan (given tiers or the current plan), or every model's current plan."""
    models = [model] if model else [p.model for p in device.plans]
    what = f"{model} on {device.id}" if model else f"every plan of {device.id}"
    placement = f" as {split_label(tiers)}" if tiers else ""
    return OperatorAction(
        title=f"Pin {what}",
        question=f"Pin {what}{placement}? The planner will stop moving it until unpinned.",
        perform=lambda client: _each(client, models, lambda c, m: c.pin_plan(device.id, m, tiers)),
    )


def unpin_plan(device: DeviceRow, model: str | None = None) -> OperatorAction:
    """Unpin one model, or every model, of a device."""
    models = [model] if model else [p.model for p in device.plans]
    what = f"{model} on {device.id}" if model else f"every plan of {device.id}"
    return OperatorAction(
        title=f"Unpin {what}",
        question=f"Unpin {what}? The planner will place it again.",
        perform=lambda client: _each(client, models, lambda c, m: c.unpin_plan(device.id, m)),
    )


def drain_device(device: DeviceRow) -> OperatorAction:
    """Drain a device (run everything on it) or undrain it when it is drained."""
    verb = "Undrain" if device.drained else "Drain"
    return OperatorAction(
        title=f"{verb} device {device.id}",
        question=f"{verb} device {device.id}?"
        + ("" if device.drained else " It will run every layer locally."),
        perform=lambda client: client.drain_device(device.id, not device.drained),
    )


def drain_site(site: str, drained: bool) -> OperatorAction:
    """Drain an edge site (its devices move elsewhere) or undrain it."""
    verb = "Undrain" if drained else "Drain"
    return OperatorAction(
        title=f"{verb} site {site}",
        question=f"{verb} edge site {site}?" + ("" if drained else " Its work will be placed elsewhere."),
        perform=lambda client: client.drain_site(site, not drained),
    )


def replan(device_id: str = "") -> OperatorAction:
    """Replan one device, or the whole fleet when no device is given."""
    what = f"device {device_id}" if device_id else "the whole fleet"
    return OperatorAction(
        title=f"Replan {what}",
        question=f"Replan {what} now?",
        perform=lambda client: client.replan(device_id),
    )


def rebirth(device_id: str) -> OperatorAction:
    """Ask a device to publish its birth again (re-reports capabilities and models)."""
    return OperatorAction(
        title=f"Request rebirth of {device_id}",
        question=f"Ask {device_id} to publish its birth again?",
        perform=lambda client: client.request_rebirth(device_id),
    )
