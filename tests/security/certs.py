"""Throwaway X.509 material for TLS tests, made by the `openssl` command line (never checked in)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pki:
    """A CA, a server pair for 127.0.0.1/localhost and a client pair, all signed by the CA."""

    directory: Path

    @property
    def ca(self) -> Path:
        """The CA certificate (PEM)."""
        return self.directory / "ca.crt"

    @property
    def server_cert(self) -> Path:
        """Server certificate with SANs IP:127.0.0.1 and DNS:localhost."""
        return self.directory / "server.crt"

    @property
    def server_key(self) -> Path:
        """Server private key."""
        return self.directory / "server.key"

    @property
    def client_cert(self) -> Path:
        """Client certificate (CN=client)."""
        return self.directory / "client.crt"

    @property
    def client_key(self) -> Path:
        """Client private key."""
        return self.directory / "client.key"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def _signed_pair(name: str, cn: str, extensions: str, cwd: Path) -> None:
    key_opts = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", *key_opts, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}", cwd=cwd)
    (cwd / f"{name}.ext").write_text(extensions + "\n")
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", f"{name}.crt", "-days", "1", "-extfile", f"{name}.ext", cwd=cwd,
    )  # fmt: skip


def make_pki(directory: Path, ca_name: str = "continuum-test-ca") -> Pki:
    """Create a fresh CA and server/client pairs under `directory` (EC P-256, valid one day)."""
    if shutil.which("openssl") is None:
        raise RuntimeError("openssl is not installed; apt-get install openssl")
    directory.mkdir(parents=True, exist_ok=True)
    key_opts = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req", "-x509", *key_opts, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1",
        "-subj", f"/CN={ca_name}", cwd=directory,
    )  # fmt: skip
    _signed_pair("server", "localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost", directory)
    _signed_pair("client", "client", "extendedKeyUsage=clientAuth", directory)
    return Pki(directory)
