"""The orchestrator's one entry point to Kubernetes: build everything from settings, or nothing off-cluster.

kube = build_kube(KubeSettings.from_env(), on_started_leading=..., on_stopped_leading=...)
if kube is not None:                       # None outside a cluster or when disabled
    await kube.start()                      # leader-election loop in a task
    publish_allowed = kube.is_leader        # check before publishing plans
    sites = await kube.discover_sites()     # None unless site discovery is enabled
    await kube.scale({"edge-site-a": 3})    # only with a RayCluster configured
    await kube.stop()                       # releases the Lease
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping

from orchestrator.kube.client import KubeClient, current_namespace, in_cluster
from orchestrator.kube.leader import ElectionConfig, LeaderElector
from orchestrator.kube.scaling import RayClusterScaler
from orchestrator.kube.settings import KubeSettings
from orchestrator.kube.sites import Discovery, discover_from_cluster


class KubeIntegration:
    """Leader election, site discovery and worker scaling over one client, as the settings ask."""

    def __init__(
        self,
        client: KubeClient,
        settings: KubeSettings,
        namespace: str,
        identity: str,
        *,
        on_started_leading: Callable[[], None] | None = None,
        on_stopped_leading: Callable[[], None] | None = None,
        on_new_leader: Callable[[str], None] | None = None,
    ) -> None:
        self.client, self.settings, self.namespace = client, settings, namespace
        self.elector: LeaderElector | None = None
        if settings.leader_election:
            config = ElectionConfig(
                namespace,
                settings.lease_name,
                identity,
                lease_duration_s=settings.lease_duration_s,
                renew_deadline_s=settings.renew_deadline_s,
                retry_period_s=settings.retry_period_s,
            )
            self.elector = LeaderElector(
                client,
                config,
                on_started_leading=on_started_leading,
                on_stopped_leading=on_stopped_leading,
                on_new_leader=on_new_leader,
            )
        self.scaler = (
            RayClusterScaler(client, namespace, settings.raycluster) if settings.raycluster else None
        )
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def is_leader(self) -> bool:
        """True when this replica may act as leader (always, when leader election is off)."""
        return self.elector is None or self.elector.is_leader

    async def start(self) -> None:
        """Start the leader-election loop (if enabled) as a background task."""
        if self.elector is not None and self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self.elector.run(self._stop), name="kube-leader-election")

    async def stop(self) -> None:
        """Stop the loop, release the Lease, close the client."""
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.client.close()

    async def discover_sites(self) -> Discovery | None:
        """Sites from node labels (None when discovery is off); raises KubeError subclasses on failure."""
        if not self.settings.site_discovery:
            return None
        return await asyncio.to_thread(discover_from_cluster, self.client)

    async def scale(self, targets: Mapping[str, int]) -> dict[str, int] | None:
        """Set worker-group replicas on the configured RayCluster (None when none is configured)."""
        if self.scaler is None:
            return None
        return await asyncio.to_thread(self.scaler.scale, targets)


def build_kube(
    settings: KubeSettings,
    environ: Mapping[str, str] | None = None,
    *,
    client: KubeClient | None = None,
    on_started_leading: Callable[[], None] | None = None,
    on_stopped_leading: Callable[[], None] | None = None,
    on_new_leader: Callable[[str], None] | None = None,
) -> KubeIntegration | None:
    """The integration when enabled and in a cluster (or given a client, as tests do), else None."""
    if not settings.enabled or (client is None and not in_cluster(environ)):
        return None
    return KubeIntegration(
        client or KubeClient.from_service_account(),
        settings,
        settings.namespace or current_namespace(),
        settings.resolved_identity(environ),
        on_started_leading=on_started_leading,
        on_stopped_leading=on_stopped_leading,
        on_new_leader=on_new_leader,
    )
