"""What the screens and the command palette ask of the app: they post these up, the app decides and acts.

A screen never performs an action itself: the app owns the confirmation, the read-only refusal, the
client and the notifications, so an action behaves the same from a key, a screen or the palette.
"""

from __future__ import annotations

from textual.message import Message

from tui.actions import OperatorAction

__all__ = ["ActionRequested", "DeviceRequested"]


class ActionRequested(Message):
    """Confirm, then perform, this operator action (refused in read-only mode)."""

    def __init__(self, action: OperatorAction) -> None:
        super().__init__()
        self.action = action


class DeviceRequested(Message):
    """Open the device screen of this device (over the fleet)."""

    def __init__(self, device_id: str) -> None:
        super().__init__()
        self.device_id = device_id
