"""Prints what moved between two uv.lock files: packages added, removed, and versions changed."""

from __future__ import annotations

import sys
import tomllib
from collections import defaultdict
from pathlib import Path


def versions(path: Path) -> dict[str, set[str]]:
    text = path.read_text() if path.exists() else ""
    found: dict[str, set[str]] = defaultdict(set)
    for package in tomllib.loads(text).get("package", []) if text else []:
        found[package["name"]].add(package["version"])
    return found


def main(old_path: str, new_path: str) -> int:
    old, new = versions(Path(old_path)), versions(Path(new_path))
    lines = []
    for name in sorted(old.keys() | new.keys()):
        was, now = sorted(old.get(name, ())), sorted(new.get(name, ()))
        if was == now:
            continue
        if not was:
            lines.append(f"  added    {name} {', '.join(now)}")
        elif not now:
            lines.append(f"  removed  {name} {', '.join(was)}")
        else:
            lines.append(f"  changed  {name} {', '.join(was)} -> {', '.join(now)}")
    print(f"lock: {len(lines)} package(s) changed" + (":" if lines else ""))
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
