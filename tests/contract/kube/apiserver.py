"""A small local HTTP server speaking the Kubernetes API's wire format for exactly the calls Continuum makes.

No real API server can run on the build machine (no container engine, no kube-apiserver), so the wrapper is
tested against this: a real `http.server` on a loopback port, reached by a real `kubernetes.client.ApiClient`.
It implements, as the API server does: Lease GET / POST (409 AlreadyExists) / PUT (409 Conflict on a stale
resourceVersion, strict MicroTime parsing), node LIST with label selectors, RayCluster GET and JSON merge
PATCH (conditional on a resourceVersion in the patch; 415 for other patch types, as for custom resources),
bearer-token auth (401), and Status objects for every error. Everything else answers 404.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

LEASE = re.compile(r"^/apis/coordination\.k8s\.io/v1/namespaces/([^/]+)/leases(?:/([^/]+))?$")
NODES = re.compile(r"^/api/v1/nodes$")
RAYCLUSTER = re.compile(r"^/apis/ray\.io/v1/namespaces/([^/]+)/rayclusters/([^/]+)$")
MICRO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$")

Json = dict[str, Any]


class ApiError(Exception):
    """Raised inside a handler to answer with a Status object."""

    def __init__(self, code: int, reason: str, message: str, details: Json | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details or {}

    def status(self) -> Json:
        """The metav1.Status body the API server sends."""
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "details": self.details,
            "code": self.code,
        }


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    content_type: str
    body: Any


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 merge patch: objects merge recursively, null deletes, anything else (lists too) replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def matches_selector(labels: dict[str, str], selector: str) -> bool:
    """Equality-based label selectors: `key`, `!key`, `key=value`, `key!=value`, comma-separated (ANDed)."""
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = term.split("==", 1) if "==" in term else term.split("=", 1)
            if labels.get(key) != value:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


@dataclass
class ApiState:
    """What the fake cluster holds; tests seed and inspect it directly."""

    token: str
    leases: dict[tuple[str, str], Json] = field(default_factory=dict)
    nodes: list[Json] = field(default_factory=list)
    rayclusters: dict[tuple[str, str], Json] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    forbidden: set[str] = field(default_factory=set)
    """Paths (regex names: "lease", "nodes", "raycluster") answered 403, as RBAC would without the rule."""
    before_write: Callable[[str, str], None] | None = None
    """Called with (method, name) before a write is applied, outside the lock (a test interleaves a rival)."""
    version: int = 1000
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_version(self) -> str:
        """A fresh resourceVersion (one counter for the whole store, like etcd's revision)."""
        self.version += 1
        return str(self.version)

    def add_raycluster(self, namespace: str, obj: Json) -> None:
        """Store a RayCluster as if `kubectl apply` had created it."""
        stored = copy.deepcopy(obj)
        stored.setdefault("metadata", {}).update(namespace=namespace, resourceVersion=self.next_version())
        self.rayclusters[(namespace, stored["metadata"]["name"])] = stored


class Handler(BaseHTTPRequestHandler):
    """Routes the few API paths; every error is a Status object with the real reason and code."""

    server: ApiServerHTTP
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `state.requests` instead."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def _serve(self, method: str) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        path, query = unquote(parts.path), parse_qs(parts.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        try:
            body = json.loads(raw) if raw else None
            with state.lock:
                state.requests.append(Recorded(method, path, query, content_type, copy.deepcopy(body)))
            if self.headers.get("Authorization") != f"Bearer {state.token}":
                raise ApiError(401, "Unauthorized", "Unauthorized")
            code, answer = self._route(method, path, query, content_type, body)
        except ApiError as exc:
            code, answer = exc.code, exc.status()
        except ValueError as exc:
            code, answer = 400, ApiError(400, "BadRequest", f"invalid JSON: {exc}").status()
        payload = json.dumps(answer).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], ctype: str, body: Any
    ) -> tuple[int, Json]:
        state = self.server.state
        if match := LEASE.match(path):
            self._check_allowed("lease", "leases.coordination.k8s.io", method)
            namespace, name = match.groups()
            if method == "GET" and name:
                return 200, self._get(state.leases, namespace, name, "coordination.k8s.io", "leases")
            if method == "POST" and not name:
                return 201, self._create_lease(namespace, body)
            if method == "PUT" and name:
                return 200, self._replace_lease(namespace, name, body)
        elif NODES.match(path) and method == "GET":
            self._check_allowed("nodes", "nodes", "list")
            selector = (query.get("labelSelector") or [""])[0]
            with state.lock:
                items = [
                    n for n in state.nodes if matches_selector(n["metadata"].get("labels", {}), selector)
                ]
                return 200, {
                    "kind": "NodeList",
                    "apiVersion": "v1",
                    "metadata": {"resourceVersion": str(state.version)},
                    "items": copy.deepcopy(items),
                }
        elif match := RAYCLUSTER.match(path):
            self._check_allowed("raycluster", "rayclusters.ray.io", method)
            namespace, name = match.groups()
            if method == "GET":
                return 200, self._get(state.rayclusters, namespace, name, "ray.io", "rayclusters")
            if method == "PATCH":
                return 200, self._patch_raycluster(namespace, name, ctype, body)
        raise ApiError(404, "NotFound", "the server could not find the requested resource")

    def _check_allowed(self, key: str, resource: str, verb: str) -> None:
        if key in self.server.state.forbidden:
            raise ApiError(
                403,
                "Forbidden",
                f'{resource} is forbidden: User "system:serviceaccount:test:continuum" cannot {verb.lower()} '
                f'resource "{resource}"',
            )

    def _get(
        self, store: dict[tuple[str, str], Json], namespace: str, name: str, group: str, kind: str
    ) -> Json:
        with self.server.state.lock:
            if (namespace, name) not in store:
                raise ApiError(
                    404,
                    "NotFound",
                    f'{kind}.{group} "{name}" not found',
                    {"name": name, "group": group, "kind": kind},
                )
            return copy.deepcopy(store[(namespace, name)])

    def _validate_lease(self, body: Any, name: str | None) -> None:
        if (
            not isinstance(body, dict)
            or body.get("kind") != "Lease"
            or body.get("apiVersion") != "coordination.k8s.io/v1"
        ):
            raise ApiError(400, "BadRequest", "the body is not a coordination.k8s.io/v1 Lease")
        if name is not None and body.get("metadata", {}).get("name") != name:
            raise ApiError(400, "BadRequest", "the name of the object does not match the name on the URL")
        for key in ("acquireTime", "renewTime"):
            value = (body.get("spec") or {}).get(key)
            if value is not None and not MICRO_TIME.match(str(value)):
                raise ApiError(
                    400,
                    "BadRequest",
                    f'Lease in version "v1" cannot be handled as a Lease: spec.{key}: {value!r}',
                )

    def _create_lease(self, namespace: str, body: Any) -> Json:
        state = self.server.state
        self._validate_lease(body, None)
        name = body["metadata"]["name"]
        if body["metadata"].get("resourceVersion"):
            raise ApiError(400, "BadRequest", "resourceVersion should not be set on objects to be created")
        if state.before_write is not None:
            state.before_write("POST", name)
        with state.lock:
            if (namespace, name) in state.leases:
                raise ApiError(
                    409,
                    "AlreadyExists",
                    f'leases.coordination.k8s.io "{name}" already exists',
                    {"name": name, "group": "coordination.k8s.io", "kind": "leases"},
                )
            stored = copy.deepcopy(body)
            stored["metadata"].update(
                namespace=namespace, resourceVersion=state.next_version(), uid=f"uid-{name}"
            )
            state.leases[(namespace, name)] = stored
            return copy.deepcopy(stored)

    def _replace_lease(self, namespace: str, name: str, body: Any) -> Json:
        state = self.server.state
        self._validate_lease(body, name)
        if state.before_write is not None:
            state.before_write("PUT", name)
        with state.lock:
            current = state.leases.get((namespace, name))
            if current is None:
                raise ApiError(404, "NotFound", f'leases.coordination.k8s.io "{name}" not found')
            self._check_version(body, current, "leases.coordination.k8s.io", name)
            stored = copy.deepcopy(body)
            stored["metadata"].update(
                namespace=namespace, resourceVersion=state.next_version(), uid=current["metadata"]["uid"]
            )
            state.leases[(namespace, name)] = stored
            return copy.deepcopy(stored)

    def _patch_raycluster(self, namespace: str, name: str, ctype: str, body: Any) -> Json:
        state = self.server.state
        if ctype != "application/merge-patch+json":
            raise ApiError(
                415, "UnsupportedMediaType", f"the body of the request was in an unknown format: {ctype}"
            )
        if state.before_write is not None:
            state.before_write("PATCH", name)
        with state.lock:
            current = state.rayclusters.get((namespace, name))
            if current is None:
                raise ApiError(404, "NotFound", f'rayclusters.ray.io "{name}" not found')
            self._check_version(body, current, "rayclusters.ray.io", name)
            patched = merge_patch(current, body)
            patched["metadata"]["resourceVersion"] = state.next_version()
            state.rayclusters[(namespace, name)] = patched
            return copy.deepcopy(patched)

    @staticmethod
    def _check_version(body: Json, current: Json, resource: str, name: str) -> None:
        wanted = (body.get("metadata") or {}).get("resourceVersion")
        if wanted and wanted != current["metadata"]["resourceVersion"]:
            kind, _, group = resource.partition(".")
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {resource} "{name}": the object has been modified; '
                "please apply your changes to the latest version and try again",
                {"name": name, "group": group, "kind": kind},
            )


class ApiServerHTTP(ThreadingHTTPServer):
    """The HTTP server with the shared state attached."""

    daemon_threads = True

    def __init__(self, state: ApiState) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = state


class FakeApiServer:
    """Start/stop wrapper: `url` for `KubeClient.for_host`, `state` to seed and inspect."""

    def __init__(self, token: str = "test-token") -> None:
        self.state = ApiState(token=token)
        self._http = ApiServerHTTP(self.state)
        self._thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-apiserver",
            daemon=True,
        )

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT"""
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=10)

    def requests(self, method: str | None = None) -> list[Recorded]:
        """The requests seen so far, optionally only one method."""
        with self.state.lock:
            return [r for r in self.state.requests if method is None or r.method == method]
