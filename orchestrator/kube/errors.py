"""Errors of the Kubernetes integration, classed by what the caller does next.

The wrapper in `orchestrator.kube.client` translates every `kubernetes` library exception into one of these,
so nothing above it ever sees an `ApiException` or a urllib3 error.
"""

from __future__ import annotations


class KubeError(Exception):
    """Any failure talking to the Kubernetes API; the message says what to check."""


class Conflict(KubeError):
    """HTTP 409: the object changed (or already exists) since it was read; re-read and try again."""


class NotFound(KubeError):
    """HTTP 404: the object does not exist (yet)."""


class Forbidden(KubeError):
    """HTTP 401/403: the service account lacks a permission the chart grants when the feature is enabled."""


class Unavailable(KubeError):
    """The API server could not be reached or answered 5xx; a later retry may succeed."""
