"""Errors the TUI shows to the operator, classed by what the operator does next.

The gRPC client translates `grpc.RpcError` into these; screens never see gRPC types.
"""

from __future__ import annotations

__all__ = ["Disconnected", "NotAllowed", "NotAuthenticated", "OperatorError", "RequestFailed"]


class OperatorError(Exception):
    """A failed call to the orchestrator's operator API, with a message a person can act on."""


class Disconnected(OperatorError):
    """The orchestrator cannot be reached right now; the TUI keeps retrying by itself."""


class NotAuthenticated(OperatorError):
    """The orchestrator wants a token for this call (UNAUTHENTICATED): pass --token."""


class NotAllowed(OperatorError):
    """The token is not allowed to do this (PERMISSION_DENIED): use an operator token."""


class RequestFailed(OperatorError):
    """The orchestrator refused or failed the request for another reason (bad id, internal error)."""
