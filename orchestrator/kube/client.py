"""The one module that owns the `kubernetes` client: every call to the API server goes through `KubeClient`.

It speaks plain JSON objects (the API's own wire format, camelCase keys) rather than the library's generated
models, so the pure modules beside it (`leases`, `sites`, `scaling`) parse and build wire objects themselves
and the exact bytes sent are under our control (Lease times must be RFC 3339 with six fractional digits).
Library and transport exceptions are translated into `orchestrator.kube.errors` here and nowhere else.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from orchestrator.kube.errors import Conflict, Forbidden, KubeError, NotFound, Unavailable

JsonObject = dict[str, Any]

LEASES = "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
NODES = "/api/v1/nodes"
RAYCLUSTERS = "/apis/ray.io/v1/namespaces/{namespace}/rayclusters"
MERGE_PATCH = "application/merge-patch+json"
SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


def in_cluster(environ: Mapping[str, str] | None = None) -> bool:
    """True inside a Kubernetes pod (KUBERNETES_SERVICE_HOST is set); everything here is off otherwise."""
    env = os.environ if environ is None else environ
    return bool(env.get("KUBERNETES_SERVICE_HOST"))


def current_namespace(default: str = "default") -> str:
    """The pod's namespace: POD_NAMESPACE (downward API), else the service account's, else `default`."""
    from_env = os.environ.get("POD_NAMESPACE")
    if from_env:
        return from_env
    try:
        with open(SERVICE_ACCOUNT_NAMESPACE, encoding="utf-8") as handle:
            return handle.read().strip() or default
    except OSError:
        return default


class KubeClient:
    """Typed access to exactly the API calls Continuum makes: Leases, node list, RayCluster get/patch.

    Synchronous (the `kubernetes` client is); async callers run it with `asyncio.to_thread`.
    """

    def __init__(self, api_client: Any, request_timeout_s: float = 10.0) -> None:
        self._api = api_client
        self._timeout = request_timeout_s

    @classmethod
    def from_service_account(cls, request_timeout_s: float = 10.0) -> KubeClient:
        """A client authenticated with the pod's service account token; only valid in a cluster."""
        from kubernetes import client, config

        try:
            config.load_incluster_config()  # type: ignore[no-untyped-call]
        except config.ConfigException as exc:
            raise KubeError(
                f"cannot load the in-cluster Kubernetes config ({exc}); "
                "run inside a pod with a service account token mounted"
            ) from exc
        return cls(client.ApiClient(), request_timeout_s)

    @classmethod
    def for_host(cls, host: str, token: str | None = None, request_timeout_s: float = 10.0) -> KubeClient:
        """A client for an explicit API server URL (tests point this at a local server)."""
        from kubernetes import client

        configuration = client.Configuration()
        configuration.host = host
        if token is not None:
            configuration.api_key = {"BearerToken": token}
            configuration.api_key_prefix = {"BearerToken": "Bearer"}
        return cls(client.ApiClient(configuration), request_timeout_s)

    def close(self) -> None:
        """Release the connection pool."""
        self._api.close()

    def get_lease(self, namespace: str, name: str) -> JsonObject:
        """GET a coordination.k8s.io/v1 Lease; raises NotFound when it does not exist."""
        return self._call("GET", f"{LEASES.format(namespace=_seg(namespace))}/{_seg(name)}")

    def create_lease(self, namespace: str, lease: JsonObject) -> JsonObject:
        """POST a new Lease; raises Conflict (409 AlreadyExists) when another candidate created it first."""
        return self._call("POST", LEASES.format(namespace=_seg(namespace)), body=lease)

    def replace_lease(self, namespace: str, lease: JsonObject) -> JsonObject:
        """PUT a Lease carrying the resourceVersion it was read at; raises Conflict when it changed since."""
        name = lease["metadata"]["name"]
        return self._call("PUT", f"{LEASES.format(namespace=_seg(namespace))}/{_seg(name)}", body=lease)

    def list_nodes(self, label_selector: str = "") -> list[JsonObject]:
        """LIST nodes (cluster scope, needs the chart's node-discovery ClusterRole), filtered by labels."""
        query = [("labelSelector", label_selector)] if label_selector else []
        items: list[JsonObject] = self._call("GET", NODES, query=query).get("items") or []
        return items

    def get_raycluster(self, namespace: str, name: str) -> JsonObject:
        """GET a ray.io/v1 RayCluster custom object."""
        return self._call("GET", f"{RAYCLUSTERS.format(namespace=_seg(namespace))}/{_seg(name)}")

    def patch_raycluster(self, namespace: str, name: str, patch: JsonObject) -> JsonObject:
        """Merge-patch (RFC 7386) a RayCluster; a resourceVersion in the patch makes it conditional."""
        path = f"{RAYCLUSTERS.format(namespace=_seg(namespace))}/{_seg(name)}"
        return self._call("PATCH", path, body=patch, content_type=MERGE_PATCH)

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        body: JsonObject | None = None,
        content_type: str = "application/json",
    ) -> JsonObject:
        """One request with the client's auth and TLS settings; returns the decoded JSON object."""
        import urllib3

        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type
        request = self._api.param_serialize(
            method=method,
            resource_path=path,
            query_params=query or None,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        try:
            response = self._api.call_api(*request, _request_timeout=self._timeout)
            response.read()
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise Unavailable(f"{method} {path}: the Kubernetes API server is unreachable ({exc})") from exc
        status = int(response.status)
        text = (response.data or b"").decode("utf-8", "replace")
        if 200 <= status <= 299:
            decoded: JsonObject = json.loads(text)
            return decoded
        raise _translate(method, path, status, text)


def _seg(value: str) -> str:
    """One URL path segment, escaped."""
    return quote(value, safe="")


def _translate(method: str, path: str, status: int, text: str) -> KubeError:
    """A Kubernetes Status response as the error the caller acts on."""
    try:
        message = str(json.loads(text).get("message") or text)
    except (ValueError, AttributeError):
        message = text
    where = f"{method} {path}: HTTP {status}: {message}"
    if status == 409:
        return Conflict(where)
    if status == 404:
        return NotFound(where)
    if status in (401, 403):
        return Forbidden(
            f"{where}; the service account lacks this permission: check the chart's RBAC values "
            "(rbac.create, orchestrator.siteDiscovery.enabled, ray.enabled)"
        )
    if status >= 500 or status == 429:
        return Unavailable(where)
    return KubeError(where)
