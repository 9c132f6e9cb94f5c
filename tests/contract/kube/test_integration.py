"""The orchestrator's entry point: everything from settings in a cluster, nothing outside one.

No Kubernetes API server can run here, so this uses a real `kubernetes.client.ApiClient` against the local
wire-compatible server in tests/contract/kube/apiserver.py.
"""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from orchestrator.kube import KubeClient, KubeSettings, build_kube
from tests.contract.kube.apiserver import FakeApiServer

pytestmark = pytest.mark.contract


def test_nothing_is_built_outside_a_cluster() -> None:
    assert build_kube(KubeSettings(), environ={}) is None


def test_nothing_is_built_when_disabled(kube: KubeClient) -> None:
    assert build_kube(KubeSettings(enabled=False), client=kube) is None


def test_settings_come_from_the_variables_the_chart_sets() -> None:
    settings = KubeSettings.from_env(
        {
            "CONTINUUM_KUBE__LEASE_NAME": "rel-continuum",
            "CONTINUUM_KUBE__LEASE_DURATION_S": "20",
            "CONTINUUM_KUBE__SITE_DISCOVERY": "true",
            "CONTINUUM_KUBE__RAYCLUSTER": "rel-continuum",
            "CONTINUUM_MQTT__BROKER": "ignored:1883",
        }
    )

    assert (settings.lease_name, settings.lease_duration_s) == ("rel-continuum", 20)
    assert settings.site_discovery
    assert settings.raycluster == "rel-continuum"
    assert settings.resolved_identity({"POD_NAME": "rel-continuum-7d9-abc"}) == "rel-continuum-7d9-abc"


def test_a_misspelt_setting_is_refused() -> None:
    with pytest.raises(ValidationError, match="lease_nmae"):
        KubeSettings.from_env({"CONTINUUM_KUBE__LEASE_NMAE": "x"})


async def test_a_replica_leads_then_releases_the_lease_on_stop(
    apiserver: FakeApiServer, kube: KubeClient
) -> None:
    started = asyncio.Event()
    settings = KubeSettings(
        namespace="ns", identity="pod-a", lease_duration_s=2, renew_deadline_s=1, retry_period_s=0.1
    )
    integration = build_kube(settings, client=kube, on_started_leading=started.set)
    assert integration is not None
    assert not integration.is_leader

    await integration.start()
    await asyncio.wait_for(started.wait(), timeout=10)
    assert integration.is_leader
    assert await integration.discover_sites() is None  # discovery off by default
    assert await integration.scale({"edge": 1}) is None  # no RayCluster configured
    await integration.stop()

    lease = apiserver.state.leases[("ns", "continuum-orchestrator")]
    assert lease["spec"]["holderIdentity"] == ""
    assert not integration.is_leader
