"""Kubernetes integration of the orchestrator: Lease leader election, edge-site discovery, worker scaling.

All of it is off unless the process runs in a cluster (`in_cluster()`); `KubeClient` in `client.py` is
the only code that touches the `kubernetes` library. Typical use by the orchestrator, in a cluster only:

    kube = build_kube(KubeSettings.from_env())   # None off-cluster; see integration.py
    if kube is not None:
        await kube.start()                       # Lease election loop; kube.is_leader gates plan publishing
        sites = await kube.discover_sites()      # edge sites from node labels, when enabled
        await kube.scale({"edge-site-a": 3})     # RayCluster worker-group replicas, when configured
        await kube.stop()
"""

from __future__ import annotations

from orchestrator.kube.client import KubeClient, current_namespace, in_cluster
from orchestrator.kube.errors import Conflict, Forbidden, KubeError, NotFound, Unavailable
from orchestrator.kube.integration import KubeIntegration, build_kube
from orchestrator.kube.leader import ElectionConfig, LeaderElector
from orchestrator.kube.leases import LeaseRecord
from orchestrator.kube.scaling import (
    RayClusterScaler,
    WorkerGroup,
    desired_replicas,
    fit_budget,
    scaling_patch,
    worker_groups,
)
from orchestrator.kube.settings import KubeSettings
from orchestrator.kube.sites import Discovery, NodeInfo, Site, discover_from_cluster, discover_sites

__all__ = [
    "Conflict",
    "Discovery",
    "ElectionConfig",
    "Forbidden",
    "KubeClient",
    "KubeError",
    "KubeIntegration",
    "KubeSettings",
    "LeaderElector",
    "LeaseRecord",
    "NodeInfo",
    "NotFound",
    "RayClusterScaler",
    "Site",
    "Unavailable",
    "WorkerGroup",
    "build_kube",
    "current_namespace",
    "desired_replicas",
    "discover_from_cluster",
    "discover_sites",
    "fit_budget",
    "in_cluster",
    "scaling_patch",
    "worker_groups",
]
