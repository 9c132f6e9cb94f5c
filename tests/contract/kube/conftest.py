"""Fixtures for the Kubernetes wrapper: a local wire-compatible API server and a real client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orchestrator.kube import KubeClient
from tests.contract.kube.apiserver import FakeApiServer


@pytest.fixture
def apiserver() -> Iterator[FakeApiServer]:
    """The local API server (see apiserver.py for exactly what it implements)."""
    server = FakeApiServer(token="test-token")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kube(apiserver: FakeApiServer) -> Iterator[KubeClient]:
    """A `KubeClient` over a real `kubernetes.client.ApiClient` aimed at the local server."""
    client = KubeClient.for_host(apiserver.url, token="test-token", request_timeout_s=5)
    try:
        yield client
    finally:
        client.close()
