"""Vendor the front-end packages from the npm registry, pinned and checked by their SHA-512.

    python scripts/vendor_assets.py           # (re)write the vendored files
    python scripts/vendor_assets.py --check   # fail if the committed files differ from the packages

Each package is fetched with the ordinary npm client (``npm pack name@version``, no install, no
package scripts run); the tarball's SHA-512 must equal the integrity pinned below (the registry's
``dist.integrity`` of that version) before anything is extracted. Only the listed dist files are
copied; ``sourceMappingURL`` comments are removed (the maps are not shipped and the manifest static
storage refuses a reference to a missing file). A VERSION and a LICENSE file lie beside each
package's files, and ``CHECKSUMS.txt`` in each folder records the SHA-256 of the committed files
so the test suite can verify them without the network. The result is committed: the server, CI and
``make demo`` never need npm.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATIC_VENDOR = ROOT / "clinicflow" / "core" / "static" / "vendor"
TEST_VENDOR = ROOT / "clinicflow" / "core" / "tests" / "vendor"

TABLER_LICENSE = """The MIT License (MIT)

Copyright (c) 2018-2026 The Tabler Authors, codecalm.net Paweł Kuna

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT
OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str  # the registry's dist.integrity of this version
    dest: Path
    files: dict[str, str]  # path inside the package -> file name in dest
    license_file: str | None  # path inside the package; None: the text below
    license_name: str
    note: str = ""
    license_text: str = field(default="", repr=False)


PACKAGES = [
    Package(
        name="@tabler/core",
        version="1.6.1",
        # pragma: allowlist nextline secret
        integrity="sha512-lgmR9gcxRp5JlLxcmRi9Rz85JrEvH6Bz71KnlcPVSa97wtwQNjgSs3g3fxwbAlulHyRMghhIV04QUuW3pqDsIg==",
        dest=STATIC_VENDOR / "tabler",
        files={"dist/css/tabler.min.css": "tabler.min.css", "dist/js/tabler.min.js": "tabler.min.js"},
        license_file=None,
        license_name="MIT",
        note="The UI kit (Bootstrap 5.3 with Tabler's components; tabler.min.js bundles Bootstrap's JS).",
        license_text=TABLER_LICENSE,  # the package ships no LICENSE file; its header names MIT
    ),
    Package(
        name="htmx.org",
        version="2.0.11",
        # pragma: allowlist nextline secret
        integrity="sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==",
        dest=STATIC_VENDOR / "htmx",
        files={"dist/htmx.min.js": "htmx.min.js"},
        license_file="LICENSE",
        license_name="0BSD",
        note="Partial page updates; configured by the htmx-config meta tag in base.html (no eval, no "
        "injected indicator styles: the CSP allows neither).",
    ),
    Package(
        name="chart.js",
        version="4.6.1",
        # pragma: allowlist nextline secret
        integrity="sha512-hJyniucsFmq//EvXYvJ6c6mahPoI3kaxdjVH8awTaJ/fDNWeSqqqArixMJWkWNN6fcYvPU3HneSANFNYtRi61g==",
        dest=STATIC_VENDOR / "chartjs",
        files={"dist/chart.umd.min.js": "chart.umd.min.js"},
        license_file="LICENSE.md",
        license_name="MIT",
    ),
    Package(
        name="axe-core",
        version="4.14.1",
        # pragma: allowlist nextline secret
        integrity="sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
        dest=TEST_VENDOR / "axe",
        files={"axe.min.js": "axe.min.js"},
        license_file="LICENSE",
        license_name="MPL-2.0",
        note="Test-only (clinicflow/core/tests/test_accessibility.py injects it); never served.",
    ),
]

SOURCE_MAP = re.compile(rb"\n?(//# sourceMappingURL=\S+|/\*# sourceMappingURL=\S+ \*/)\s*$")


def npm_pack(pkg: Package, workdir: Path) -> Path:
    """Download the tarball with npm and check its SHA-512 against the pinned integrity."""
    out = subprocess.run(
        ["npm", "pack", "--json", "--ignore-scripts", f"{pkg.name}@{pkg.version}"],
        cwd=workdir,
        check=True,
        capture_output=True,
        text=True,
    )
    info = json.loads(out.stdout)[0]
    tarball = workdir / str(info["filename"])
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if digest != pkg.integrity or info.get("integrity") != pkg.integrity:
        raise SystemExit(f"{pkg.name}@{pkg.version}: checksum mismatch ({digest}), refusing to vendor")
    return tarball


def build(pkg: Package, tarball: Path) -> dict[str, bytes]:
    """The files to commit for one package, by name."""
    result: dict[str, bytes] = {}
    with tarfile.open(tarball, "r:gz") as tar:

        def member(path: str) -> bytes:
            handle = tar.extractfile(f"package/{path}")
            if handle is None:
                raise SystemExit(f"{pkg.name}: {path} is not a file")
            return handle.read()

        for inner, name in pkg.files.items():
            result[name] = SOURCE_MAP.sub(b"\n", member(inner)).rstrip(b"\n") + b"\n"
        license_name = Path(pkg.license_file).name if pkg.license_file else "LICENSE"
        result[license_name] = member(pkg.license_file) if pkg.license_file else pkg.license_text.encode()
    version = f"{pkg.name} {pkg.version} from the npm registry, {pkg.license_name}.\n"
    version += f"Tarball integrity (checked by scripts/vendor_assets.py): {pkg.integrity}\n"
    version += "sourceMappingURL comments are removed (the .map files are not shipped).\n"
    if pkg.note:
        version += pkg.note + "\n"
    result["VERSION"] = version.encode()
    sums = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(result.items()))
    result["CHECKSUMS.txt"] = sums.encode()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    if shutil.which("npm") is None:
        print("npm is needed to vendor the front-end packages", file=sys.stderr)
        return 2
    stale: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for pkg in PACKAGES:
            files = build(pkg, npm_pack(pkg, Path(tmp)))
            for name, data in files.items():
                target = pkg.dest / name
                if args.check:
                    if not target.exists() or target.read_bytes() != data:
                        stale.append(str(target.relative_to(ROOT)))
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            print(f"{pkg.name}@{pkg.version}: {', '.join(sorted(files))} -> {pkg.dest.relative_to(ROOT)}")
    if stale:
        print("differs from the pinned packages: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
