"""Settings of the Kubernetes integration: a typed group the orchestrator's settings root can embed as `kube`.

Until it is embedded, `KubeSettings.from_env()` reads the same names the nested form would use
(`CONTINUUM_KUBE__LEASE_NAME=...`), which is what the Helm chart sets on the orchestrator Deployment.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

ENV_PREFIX = "CONTINUUM_KUBE__"


class KubeSettings(BaseModel):
    """What the orchestrator does with the Kubernetes API when it runs in a cluster."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    """Master switch; even when true nothing happens outside a cluster (no KUBERNETES_SERVICE_HOST)."""
    namespace: str = ""
    """Namespace of the Lease and the RayCluster; empty: the pod's own (POD_NAMESPACE or service account)."""
    identity: str = ""
    """This replica's name in the Lease; empty: POD_NAME, else the host name (the pod name in a pod)."""
    leader_election: bool = True
    """Elect one leader among replicas with a Lease; only the leader publishes plans."""
    lease_name: str = "continuum-orchestrator"
    """Name of the coordination.k8s.io/v1 Lease."""
    lease_duration_s: int = 15
    """Standbys take over this long after the leader's last renewal."""
    renew_deadline_s: float = 10.0
    """A leader that has not renewed for this long stops acting as leader."""
    retry_period_s: float = 2.0
    """Interval between acquire/renew attempts."""
    site_discovery: bool = False
    """Discover edge sites from node labels (needs the chart's node-reader ClusterRole)."""
    raycluster: str = ""
    """Name of the KubeRay RayCluster whose worker groups the orchestrator scales; empty: no scaling."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KubeSettings:
        """Read `CONTINUUM_KUBE__<FIELD>` variables (field names upper-cased); unknown ones are refused."""
        env = os.environ if environ is None else environ
        data: dict[str, Any] = {
            key[len(ENV_PREFIX) :].lower(): value for key, value in env.items() if key.startswith(ENV_PREFIX)
        }
        return cls(**data)

    def resolved_identity(self, environ: Mapping[str, str] | None = None) -> str:
        """The identity to put in the Lease."""
        env = os.environ if environ is None else environ
        return self.identity or env.get("POD_NAME", "") or socket.gethostname()
