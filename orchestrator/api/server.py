"""The operator gRPC server: the Operator service, standard health checking and reflection. Owns grpc.aio.

With a certificate and key it serves TLS only; with a client CA as well it serves mutual TLS: every client
must present a certificate signed by that CA, or the handshake fails (clients see UNAVAILABLE).

Shutdown follows the health protocol: every service is marked NOT_SERVING first
(`enter_graceful_shutdown`), then in-flight calls get `grace_s` to finish.
"""

from __future__ import annotations

from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from orchestrator.api.service import OperatorService
from protos.v1 import operator_pb2, operator_pb2_grpc

__all__ = ["OperatorServer"]

SERVICE_NAME = operator_pb2.DESCRIPTOR.services_by_name["Operator"].full_name


class OperatorServer:
    """A started grpc.aio server and its health servicer."""

    def __init__(
        self,
        service: OperatorService,
        host: str,
        port: int,
        tls_cert: str = "",
        tls_key: str = "",
        tls_client_ca: str = "",
    ) -> None:
        if tls_client_ca and not (tls_cert and tls_key):
            raise ValueError(
                "api.tls_client_ca (mutual TLS) needs api.tls_cert and api.tls_key for the server's own pair"
            )
        self._server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        operator_pb2_grpc.add_OperatorServicer_to_server(service, self._server)
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)
        reflection.enable_server_reflection(
            (
                SERVICE_NAME,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ),
            self._server,
        )
        address = f"{host}:{port}"
        if tls_cert and tls_key:
            credentials = grpc.ssl_server_credentials(
                [(Path(tls_key).read_bytes(), Path(tls_cert).read_bytes())],
                root_certificates=Path(tls_client_ca).read_bytes() if tls_client_ca else None,
                require_client_auth=bool(tls_client_ca),
            )
            self.port = self._server.add_secure_port(address, credentials)
        else:
            self.port = self._server.add_insecure_port(address)
        if self.port == 0:
            raise OSError(f"cannot listen on {address} for the operator API; choose another --grpc-port")
        self.host = host

    async def start(self) -> None:
        """Start serving and report SERVING for the Operator service and the server as a whole."""
        await self._server.start()
        await self.health.set("", health_pb2.HealthCheckResponse.SERVING)
        await self.health.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)

    async def stop(self, grace_s: float) -> None:
        """Report NOT_SERVING, then stop with a grace period for in-flight calls."""
        await self.health.enter_graceful_shutdown()
        await self._server.stop(grace_s)
