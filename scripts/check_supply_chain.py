"""Supply-chain checks run by ``make test`` (SECURITY.md SC-01). Exit status 1 names each problem.

1. Pins: every dependency in ``pyproject.toml`` (runtime and ``dev``) is pinned with ``==``, and
   ``pylock.toml`` (hash-pinned, ``make lock``) holds that version — an unpinned or out-of-date
   dependency fails.
2. Secrets: ``detect-secrets`` over the tracked files finds nothing that is not in
   ``.secrets.baseline`` (the audited list: test passwords, the development-only secret key).
   Regenerate it after auditing a new finding: ``python scripts/check_supply_chain.py --baseline``.
3. Static analysis: ``bandit`` finds no high-severity issue in ``clinicflow`` and ``config``
   (medium ones — SQL text built from model table names, values bound — are reviewed in code
   with ``# noqa: S608`` notes; ruff's ``S`` rules run the same checks on every line).
4. SBOM: writes a CycloneDX 1.6 bill of materials of the installed environment to
   ``var/sbom.cdx.json``.

A vulnerability audit (pip-audit) needs a vulnerability database these machines cannot reach; run
``pip-audit -r <(python scripts/pylock_requirements.py)`` where one is reachable.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# not scanned: installed and generated trees, translations, migrations, and the files made of public
# hashes (the lock's package hashes, the baseline's own hashed findings)
EXCLUDE = r"(^|/)(\.venv|var|node_modules)/|\.po$|\.mo$|migrations/|^pylock\.toml$|^\.secrets\.baseline$"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)(\[[^\]]*\])?==(?P<version>[^\s;]+)$")


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def check_pins() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *project.get("optional-dependencies", {}).get("dev", [])]
    lock = tomllib.loads((ROOT / "pylock.toml").read_text())
    locked = {norm(p["name"]): p.get("version") for p in lock["packages"]}
    problems = []
    for requirement in declared:
        m = PIN.match(requirement.strip())
        if m is None:
            problems.append(f"pyproject.toml: {requirement!r} is not pinned with ==")
            continue
        name, version = norm(m["name"]), m["version"]
        if locked.get(name) != version:
            problems.append(
                f"pylock.toml: {name} is {locked.get(name, 'missing')}, pyproject.toml pins {version} "
                "(run make lock)"
            )
    for package in lock["packages"]:
        files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        if "directory" not in package and not any("sha256" in f.get("hashes", {}) for f in files):
            problems.append(f"pylock.toml: {package['name']} has no SHA-256 hash")
    return problems


def check_secrets() -> list[str]:
    baseline = json.loads((ROOT / ".secrets.baseline").read_text())
    known = {(f, s["hashed_secret"]) for f, items in baseline["results"].items() for s in items}
    files = scanned_files()
    found = json.loads(
        subprocess.run(
            [str(BIN / "detect-secrets"), "scan", *files],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    return [
        f"{f}:{s['line_number']}: possible secret ({s['type']}) not in .secrets.baseline"
        for f, items in found["results"].items()
        for s in items
        if (f, s["hashed_secret"]) not in known
    ]


def check_bandit() -> list[str]:
    run = subprocess.run(
        [str(BIN / "bandit"), "-q", "-r", "clinicflow", "config", "-x", "*/tests/*,*/migrations/*", "-lll"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return [] if run.returncode == 0 else [f"bandit: high-severity findings\n{run.stdout}{run.stderr}"]


def write_sbom() -> list[str]:
    (ROOT / "var").mkdir(exist_ok=True)
    out = ROOT / "var" / "sbom.cdx.json"
    run = subprocess.run(
        [str(BIN / "cyclonedx-py"), "environment", "--of", "JSON", "-o", str(out), sys.executable],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        return [f"cyclonedx-py: {run.stderr.strip()}"]
    components = len(json.loads(out.read_text()).get("components", []))
    print(f"SBOM: {out.relative_to(ROOT)} ({components} components)")
    return []


def scanned_files() -> list[str]:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [f for f in tracked if not re.search(EXCLUDE, f) and (ROOT / f).is_file()]


def write_baseline() -> int:
    run = subprocess.run(
        [str(BIN / "detect-secrets"), "scan", *scanned_files()], cwd=ROOT, capture_output=True, text=True
    )
    if run.returncode != 0:
        print(run.stderr, file=sys.stderr)
        return 1
    (ROOT / ".secrets.baseline").write_text(run.stdout)
    print(f".secrets.baseline: {len(json.loads(run.stdout)['results'])} files with audited findings")
    return 0


def main() -> int:
    if sys.argv[1:] == ["--baseline"]:
        return write_baseline()
    problems: list[str] = []
    for name, check in (
        ("pins", check_pins),
        ("secrets", check_secrets),
        ("bandit", check_bandit),
        ("sbom", write_sbom),
    ):
        found = check()
        print(f"supply chain: {name}: {'ok' if not found else f'{len(found)} problem(s)'}")
        problems += found
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
