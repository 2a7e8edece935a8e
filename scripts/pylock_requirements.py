"""Print ``pylock.toml`` (PEP 751, written by ``pip lock``) as a pip requirements file with hashes,
for ``pip install --require-hashes --no-deps -r``: every package at its locked version, each allowed
file by its SHA-256. The project itself (a local directory) is left out; it is installed on top.

    python scripts/pylock_requirements.py [pylock.toml] > requirements.txt
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any


def requirements(lock: dict[str, Any]) -> list[str]:
    lines = []
    for package in sorted(lock["packages"], key=lambda p: p["name"]):
        files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        hashes = sorted({f["hashes"]["sha256"] for f in files if "sha256" in f.get("hashes", {})})
        if not hashes:
            continue  # a local directory (the project itself)
        pins = " ".join(f"--hash=sha256:{h}" for h in hashes)
        lines.append(f"{package['name']}=={package['version']} {pins}")
    return lines


def main() -> int:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "pylock.toml")
    print("\n".join(requirements(tomllib.loads(path.read_text()))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
