"""A ready Mosquitto configuration for one fleet: mosquitto.conf, a password file and an ACL file.

Pure rendering (`render_conf`, `render_passwords`) is kept apart from the one function that writes
files (`write_broker_config`), so the Helm chart's templates and the tests can compare against the
same text. Usernames are ids (device ids, orchestrator names) checked by `protos.topics.validate_id`,
plus no ':' (Mosquitto's password file splits on it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.security.acl import AclModel, render_acl
from orchestrator.security.broker_user import broker_user, check_reachable, hand_over
from orchestrator.security.passwords import DEFAULT_ITERATIONS, password_line
from protos.topics import InvalidId, validate_id

__all__ = [
    "DEFAULT_MAX_PACKET_BYTES",
    "BrokerConfig",
    "Credential",
    "TlsFiles",
    "WrittenConfig",
    "parse_credential",
    "render_conf",
    "render_passwords",
    "write_broker_config",
]

DEFAULT_MAX_PACKET_BYTES = 256 * 1024
"""Largest MQTT packet the broker accepts: a birth or a command is a few KiB; anything huge is hostile."""
CONF_NAME = "mosquitto.conf"
PASSWORD_NAME = "passwd"
ACL_NAME = "acl"


@dataclass(frozen=True, slots=True)
class Credential:
    """An account: a username (a device id or an orchestrator name) and its secret."""

    username: str
    secret: str = field(repr=False)

    def __post_init__(self) -> None:
        validate_id(self.username, "username")
        if ":" in self.username:
            raise InvalidId(
                f"username {self.username!r} contains ':', which Mosquitto's password file reserves"
            )
        if not self.secret:
            raise ValueError(f"account {self.username!r} has an empty secret; give it one")
        if any(ch in self.secret for ch in "\n\r\x00"):
            raise ValueError(f"the secret of {self.username!r} contains a newline or NUL")


def parse_credential(text: str, what: str = "device") -> Credential:
    """Parse `ID:SECRET` (split at the first ':'), raising ValueError/InvalidId saying what is wrong."""
    username, sep, secret = text.partition(":")
    if not sep:
        raise ValueError(f"{what} {text[:40]!r} must be given as ID:SECRET")
    return Credential(validate_id(username, f"{what} id"), secret)


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """Server-side TLS material: the CA that signed clients (and the server), the server pair."""

    cafile: Path
    certfile: Path
    keyfile: Path
    require_client_cert: bool = False

    @classmethod
    def from_dir(cls, directory: Path, *, require_client_cert: bool = False) -> TlsFiles:
        """`ca.crt`, `server.crt` and `server.key` in `directory`; FileNotFoundError names a missing one."""
        directory = directory.resolve()
        files = [directory / name for name in ("ca.crt", "server.crt", "server.key")]
        for path in files:
            if not path.is_file():
                raise FileNotFoundError(
                    f"{path} is missing; --tls-dir needs ca.crt, server.crt and server.key"
                )
        return cls(files[0], files[1], files[2], require_client_cert)


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """Everything `continuum broker config` renders."""

    port: int
    fleet: str
    devices: tuple[Credential, ...]
    orchestrators: tuple[Credential, ...]
    bind: str | None = None
    tls: TlsFiles | None = None
    max_packet_bytes: int = DEFAULT_MAX_PACKET_BYTES
    run_as: str | None = None
    iterations: int = DEFAULT_ITERATIONS
    orchestrator_port: int | None = None
    """A second listener for orchestrator accounts, without `use_username_as_clientid` (which would make
    two connections of one account take each other over); None: everyone uses `port`."""
    orchestrator_bind: str = "127.0.0.1"
    """Address of the orchestrator listener; it must not be reachable from the device network."""

    def __post_init__(self) -> None:
        validate_id(self.fleet, "fleet")
        for port in (self.port, self.orchestrator_port):
            if port is not None and not 0 < port < 65536:
                raise ValueError(f"port {port} is outside 1..65535")
        if self.orchestrator_port == self.port:
            raise ValueError("--orchestrator-port must differ from --port")
        if not self.orchestrators:
            raise ValueError(
                "give at least one --orchestrator NAME:SECRET; without it nobody can send commands"
            )
        names = [c.username for c in (*self.devices, *self.orchestrators)]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"usernames must be unique across devices and orchestrators: {duplicates}")
        if self.max_packet_bytes < 1024:
            raise ValueError("max packet size below 1 KiB would refuse ordinary births")

    @property
    def acl_model(self) -> AclModel:
        """The ACL model the configuration enforces."""
        return AclModel(self.fleet, tuple(c.username for c in self.orchestrators))


@dataclass(frozen=True, slots=True)
class WrittenConfig:
    """Paths of the files written."""

    conf: Path
    passwords: Path
    acl: Path
    persistence: Path


def render_conf(config: BrokerConfig, out_dir: Path) -> str:
    """The mosquitto.conf text, referring to the password and ACL files in `out_dir`."""
    out_dir = out_dir.resolve()
    listener = f"listener {config.port}" + (f" {config.bind}" if config.bind else "")
    lines = [
        "# Continuum broker configuration, written by `continuum broker config`.",
        "# Every client authenticates; each device may publish only its own topics (see acl).",
        "per_listener_settings false",
        "allow_anonymous false",
        f"password_file {out_dir / PASSWORD_NAME}",
        f"acl_file {out_dir / ACL_NAME}",
        f"max_packet_size {config.max_packet_bytes}",
        "max_queued_messages 10000",
        "# QoS 1 sessions and retained births survive a broker restart.",
        "persistence true",
        f"persistence_location {out_dir / 'data'}/",
        "autosave_interval 1",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "connection_messages true",
    ]
    if config.run_as:
        lines.append(f"user {config.run_as}")
    lines += [
        "",
        "# Devices. Client id = username: a device can never take over another device's session.",
        listener,
        "use_username_as_clientid true",
        *_tls_lines(config.tls, config.tls is not None and config.tls.require_client_cert),
    ]
    if config.orchestrator_port is not None:
        lines += [
            "",
            "# Orchestrators: their connections (and replicas) share one account, so they keep their own",
            "# client ids here. Keep this listener off the device network (loopback by default).",
            f"listener {config.orchestrator_port} {config.orchestrator_bind}",
            *_tls_lines(config.tls, False),
        ]
    return "\n".join(lines) + "\n"


def _tls_lines(tls: TlsFiles | None, require_client_cert: bool) -> list[str]:
    if tls is None:
        return []
    return [
        f"cafile {tls.cafile}",
        f"certfile {tls.certfile}",
        f"keyfile {tls.keyfile}",
        "tls_version tlsv1.2",
        f"require_certificate {'true' if require_client_cert else 'false'}",
    ]


def render_passwords(config: BrokerConfig) -> str:
    """The password file text: one `$7$` line per account (fresh salts each time)."""
    accounts = (*config.devices, *config.orchestrators)
    return "".join(password_line(c.username, c.secret, iterations=config.iterations) + "\n" for c in accounts)


def write_broker_config(config: BrokerConfig, out_dir: Path) -> WrittenConfig:
    """Write mosquitto.conf, passwd (mode 0600), acl and the persistence folder under `out_dir`.

    Run as root, first make sure the user the broker switches to can reach `out_dir` (BrokerUserError,
    naming the folder in the way and the command that fixes it, with nothing written), then give that
    user the files it reads after switching.
    """
    out_dir = out_dir.resolve()
    user = broker_user(config.run_as)
    if user is not None:
        check_reachable(out_dir, user)
    created = [folder for folder in (*reversed(out_dir.parents), out_dir) if not folder.exists()]
    out_dir.mkdir(parents=True, exist_ok=True)
    for folder in created:
        # Whatever the umask, folders we create must let the broker's user through to its files.
        os.chmod(folder, 0o755)
    written = WrittenConfig(
        conf=out_dir / CONF_NAME,
        passwords=out_dir / PASSWORD_NAME,
        acl=out_dir / ACL_NAME,
        persistence=out_dir / "data",
    )
    written.persistence.mkdir(exist_ok=True)
    fd = os.open(written.passwords, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(render_passwords(config))
    os.chmod(written.passwords, 0o600)
    written.acl.write_text(render_acl(config.acl_model))
    written.conf.write_text(render_conf(config, out_dir))
    hand_over((written.passwords, written.acl, written.persistence), user)
    return written
