"""Broker security: Mosquitto configuration, password hashes and the per-device ACL model.

Pure rendering plus one file-writing function; no broker client lives here.
"""

from __future__ import annotations

from orchestrator.security.acl import AclModel, AclRule, render_acl, topic_matches
from orchestrator.security.broker_config import (
    DEFAULT_MAX_PACKET_BYTES,
    BrokerConfig,
    Credential,
    TlsFiles,
    WrittenConfig,
    parse_credential,
    render_conf,
    render_passwords,
    write_broker_config,
)
from orchestrator.security.passwords import hash_password, password_line, verify_password

__all__ = [
    "DEFAULT_MAX_PACKET_BYTES",
    "AclModel",
    "AclRule",
    "BrokerConfig",
    "Credential",
    "TlsFiles",
    "WrittenConfig",
    "hash_password",
    "parse_credential",
    "password_line",
    "render_acl",
    "render_conf",
    "render_passwords",
    "topic_matches",
    "verify_password",
    "write_broker_config",
]
