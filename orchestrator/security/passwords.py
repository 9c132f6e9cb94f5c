"""Mosquitto password-file entries, hashed the way Mosquitto 2.0 hashes them.

Mosquitto 2.0 stores `username:$7$<iterations>$<base64 salt>$<base64 hash>`, where `$7$` names
PBKDF2-HMAC-SHA512 over the raw salt bytes (12 random bytes, 101 iterations by default, a 64-byte
digest). Writing the file ourselves means `continuum broker config` needs no `mosquitto_passwd`
on the machine that renders the configuration (a laptop, a CI job, a Helm pre-install step).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass

__all__ = [
    "DEFAULT_ITERATIONS",
    "PasswordEntry",
    "hash_password",
    "parse_password_line",
    "password_line",
    "verify_password",
]

DEFAULT_ITERATIONS = 101
"""Mosquitto 2.0's own default (`mosquitto_passwd` writes 101); raise it for a slower brute force."""
SALT_BYTES = 12
DIGEST = "sha512"
_SCHEME = "7"


@dataclass(frozen=True, slots=True)
class PasswordEntry:
    """One parsed `$7$` line of a Mosquitto password file."""

    username: str
    iterations: int
    salt: bytes
    digest: bytes


def hash_password(secret: str, *, iterations: int = DEFAULT_ITERATIONS, salt: bytes | None = None) -> str:
    """The `$7$...` hash of `secret` (a fresh random salt unless one is given, for reproducible tests)."""
    if not secret:
        raise ValueError("an empty secret would let anyone in; give every account a secret")
    if iterations < 1:
        raise ValueError(f"iterations must be at least 1, not {iterations}")
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac(DIGEST, secret.encode("utf-8"), salt, iterations)
    salt_b64 = base64.b64encode(salt).decode("ascii")
    digest_b64 = base64.b64encode(digest).decode("ascii")
    return f"${_SCHEME}${iterations}${salt_b64}${digest_b64}"


def password_line(username: str, secret: str, *, iterations: int = DEFAULT_ITERATIONS) -> str:
    """One line of the password file (no newline). `username` must not contain ':'."""
    if ":" in username or "\n" in username:
        raise ValueError(
            f"username {username!r} cannot contain ':' or a newline in a Mosquitto password file"
        )
    return f"{username}:{hash_password(secret, iterations=iterations)}"


def parse_password_line(line: str) -> PasswordEntry:
    """Parse `user:$7$iter$salt$hash`, raising ValueError for anything else."""
    username, sep, hashed = line.strip().partition(":")
    if not sep or not username:
        raise ValueError(f"not a password-file line: {line!r}")
    parts = hashed.split("$")
    if len(parts) != 5 or parts[0] != "" or parts[1] != _SCHEME:
        raise ValueError(f"user {username!r}: not a $7$ (PBKDF2-SHA512) hash")
    try:
        iterations = int(parts[2])
        salt = base64.b64decode(parts[3], validate=True)
        digest = base64.b64decode(parts[4], validate=True)
    except (ValueError, binascii.Error) as exc:
        raise ValueError(f"user {username!r}: malformed $7$ hash ({exc})") from exc
    return PasswordEntry(username, iterations, salt, digest)


def verify_password(line: str, secret: str) -> bool:
    """True when `secret` is the password that `line` was written for (constant-time compare)."""
    entry = parse_password_line(line)
    candidate = hashlib.pbkdf2_hmac(DIGEST, secret.encode("utf-8"), entry.salt, entry.iterations)
    return hmac.compare_digest(candidate, entry.digest)
