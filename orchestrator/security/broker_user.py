"""The user Mosquitto runs as, and whether that user can reach the files `continuum broker config` writes.

Started as root, Mosquitto switches to its `user` (default `mosquitto`) before it opens the password file,
the ACL file and its persistence folder. Those files must then be that user's to read, and every folder
above them must let that user through; otherwise the broker starts, logs "Unable to open pwfile" and
refuses every client. Started as anyone else, Mosquitto keeps its own user, who wrote the files.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BrokerUser",
    "BrokerUserError",
    "broker_user",
    "check_reachable",
    "hand_over",
    "unreachable_folder",
]

DEFAULT_BROKER_USER = "mosquitto"
"""Who Mosquitto switches to when started as root and its configuration names no `user`."""


class BrokerUserError(ValueError):
    """The broker, started as the configuration says, could not read what was written for it."""


@dataclass(frozen=True, slots=True)
class BrokerUser:
    """The account the broker will run as: its name, uid and every group it belongs to."""

    name: str
    uid: int
    gid: int
    groups: frozenset[int]


def broker_user(run_as: str | None) -> BrokerUser | None:
    """The user a root-started broker switches to; None when we are not root (the broker runs as us)."""
    if os.geteuid() != 0:
        return None
    name = run_as or DEFAULT_BROKER_USER
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        hint = "install mosquitto first (its package creates that user)" if run_as is None else "create it"
        raise BrokerUserError(
            f"mosquitto started as root switches to user {name!r}, which does not exist here: {hint}, "
            "or name an existing user with --run-as USER. Nothing was written."
        ) from None
    groups = frozenset(os.getgrouplist(name, entry.pw_gid))
    return BrokerUser(name, entry.pw_uid, entry.pw_gid, groups)


def _can_enter(folder: Path, user: BrokerUser) -> bool:
    info = folder.stat()
    if user.uid == 0:
        return True
    if info.st_uid == user.uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid in user.groups:
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)


def unreachable_folder(out_dir: Path, user: BrokerUser) -> Path | None:
    """The first existing folder on the way to `out_dir` (itself included) that `user` cannot enter."""
    out_dir = out_dir.resolve()
    for folder in (*reversed(out_dir.parents), out_dir):
        if folder.exists() and not _can_enter(folder, user):
            return folder
    return None


def check_reachable(out_dir: Path, user: BrokerUser) -> None:
    """Raise BrokerUserError, saying exactly what to run, when `user` cannot reach `out_dir`."""
    blocked = unreachable_folder(out_dir, user)
    if blocked is None:
        return
    info = blocked.stat()
    raise BrokerUserError(
        f"mosquitto started as root switches to user {user.name!r}, which cannot enter {blocked} "
        f"({stat.filemode(info.st_mode)} {_owner(info)}), so it could not read the password file "
        f"under {out_dir.resolve()}. Nothing was written. Write it where {user.name!r} can reach, for "
        f"example --out /etc/mosquitto/continuum, or let it through with: chmod o+x {blocked}"
    )


def _owner(info: os.stat_result) -> str:
    try:
        user = pwd.getpwuid(info.st_uid).pw_name
    except KeyError:
        user = str(info.st_uid)
    try:
        group = grp.getgrgid(info.st_gid).gr_name
    except KeyError:
        group = str(info.st_gid)
    return f"{user}:{group}"


def hand_over(paths: tuple[Path, ...], user: BrokerUser | None) -> None:
    """Give the broker's user the files it opens after switching (their modes stay as written)."""
    if user is None:
        return
    for path in paths:
        os.chown(path, user.uid, user.gid)
