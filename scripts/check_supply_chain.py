"""Supply-chain checks run by ``make test`` (SECURITY.md SC-01). Exit status 1 names each problem.

1. Pins: every dependency in ``pyproject.toml`` (runtime and ``dev``) is pinned with ``==``, and
   ``pylock.toml`` (hash-pinned, ``make lock``) holds that version — an unpinned or out-of-date
   dependency fails.
2. Secrets: ``detect-secrets`` over the tracked files finds nothing that is not in
   ``.secrets.baseline`` (the audited list: test passwords, the development-only secret key).
   Regenerate it after auditing a new finding: ``python scripts/check_supply_chain.py --baseline``.
3. Static analysis: ``bandit -ll`` (medium and high severity, any confidence; settings in
   ``[tool.bandit]`` of ``pyproject.toml``) finds nothing in ``clinicflow`` and ``config``. A reviewed
   use is kept with ``# nosec Bxxx # reason`` on the reported line.
4. Local semgrep rules (``scripts/semgrep_rules.yml``: string-built SQL, ``mark_safe``/``format_html``
   misuse and ``|safe``, ``csrf_exempt``, ``random`` for secrets, ``DEBUG = True``, ``verify=False``)
   find nothing outside tests and migrations; a reviewed use carries ``# nosemgrep: <rule-id> — reason``
   on (or just above) the reported line. semgrep pins other versions of click and jsonschema than the
   project, so it lives in its own venv, ``.venv-tools``, installed here from the hash-pinned
   ``scripts/pylock.tools.toml`` (``python scripts/check_supply_chain.py --tools-lock`` re-locks it).
5. SBOM: writes a CycloneDX 1.6 bill of materials of the installed environment to
   ``var/sbom.cdx.json``.

Each check prints its time; ``--only NAME[,NAME]`` runs some of them (pins, secrets, bandit,
semgrep, sbom).

A vulnerability audit (pip-audit) needs a vulnerability database these machines cannot reach; run
``pip-audit -r <(python scripts/pylock_requirements.py)`` where one is reachable.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TOOLS = ROOT / ".venv-tools"  # semgrep and its own dependencies, apart from the project's pins
TOOLS_LOCK = ROOT / "scripts" / "pylock.tools.toml"
TOOLS_PINS = ("semgrep==1.182.0",)
SEMGREP_RULES = ROOT / "scripts" / "semgrep_rules.yml"
PIP_VERSION = "26.3"
# not scanned: installed and generated trees, translations, migrations, and the files made of public
# hashes (the lock's package hashes, the baseline's own hashed findings)
EXCLUDE = (
    r"(^|/)(\.venv|\.venv-tools|var|node_modules)/|\.po$|\.mo$|migrations/|(^|/)pylock(\.[\w-]+)?\.toml$"
    r"|^\.secrets\.baseline$"
)
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
    tools = tomllib.loads(TOOLS_LOCK.read_text())
    tools_locked = {norm(p["name"]): p.get("version") for p in tools["packages"]}
    for pin in TOOLS_PINS:
        name, version = pin.split("==")
        if tools_locked.get(norm(name)) != version:
            problems.append(f"{TOOLS_LOCK.name}: {name} is not locked at {version} (run --tools-lock)")
    for path, packages in (("pylock.toml", lock["packages"]), (TOOLS_LOCK.name, tools["packages"])):
        for package in packages:
            files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
            if "directory" not in package and not any("sha256" in f.get("hashes", {}) for f in files):
                problems.append(f"{path}: {package['name']} has no SHA-256 hash")
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
        [str(BIN / "bandit"), "-q", "-c", "pyproject.toml", "-r", "clinicflow", "config", "-ll"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    # stderr only carries bandit's "nosec encountered ... but no failed test" notes for multi-line strings
    return [] if run.returncode == 0 else [f"bandit: medium- or high-severity findings\n{run.stdout}"]


def tools_venv() -> Path:
    """``.venv-tools/bin/semgrep``, installing ``scripts/pylock.tools.toml`` (hashes checked) when the
    venv is missing or holds another semgrep version."""
    semgrep = TOOLS / "bin" / "semgrep"
    wanted = TOOLS_PINS[0].split("==")[1]
    if semgrep.exists() and any(TOOLS.glob(f"lib/python*/site-packages/semgrep-{wanted}.dist-info")):
        return semgrep  # (``semgrep --version`` would ask the network for the latest version)
    print(f"supply chain: installing {TOOLS_PINS[0]} into {TOOLS.name} from {TOOLS_LOCK.name}")
    python = TOOLS / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TOOLS)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"pip=={PIP_VERSION}"], check=True)
    requirements = TOOLS / "requirements.lock.txt"
    requirements.write_text(
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "pylock_requirements.py"), str(TOOLS_LOCK)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--require-hashes",
            "--no-deps",
            "-r",
            str(requirements),
        ],
        check=True,
    )
    return semgrep


def semgrep_command(*targets: str) -> list[str]:
    """An offline semgrep run of the local rules (no metrics, no version check, no registry)."""
    return [
        str(tools_venv()),
        "scan",
        "--config",
        str(SEMGREP_RULES),
        "--metrics=off",
        "--disable-version-check",
        "--error",
        "--quiet",
        *targets,
    ]


def check_semgrep() -> list[str]:
    run = subprocess.run(
        [*semgrep_command("clinicflow", "config"), "--exclude", "tests", "--exclude", "migrations"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "SEMGREP_SEND_METRICS": "off", "SEMGREP_ENABLE_VERSION_CHECK": "0"},
    )
    if run.returncode == 0:
        return []
    return [
        f"semgrep: findings of scripts/semgrep_rules.yml (exit {run.returncode})\n{run.stdout}{run.stderr}"
    ]


def write_tools_lock() -> int:
    """Re-resolve ``scripts/pylock.tools.toml`` from ``TOOLS_PINS`` (with the project venv's pip)."""
    run = subprocess.run(
        [str(BIN / "pip"), "lock", "--quiet", *TOOLS_PINS, "-o", str(TOOLS_LOCK)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    print(run.stderr, file=sys.stderr)
    return run.returncode


def write_sbom() -> list[str]:
    (ROOT / "var").mkdir(exist_ok=True)
    out = ROOT / "var" / "sbom.cdx.json"
    # written under a name of this process's own, then renamed: two runs side by side (CI) never read
    # each other's half-written file
    part = out.with_name(f".sbom.{os.getpid()}.json")
    run = subprocess.run(
        [str(BIN / "cyclonedx-py"), "environment", "--of", "JSON", "-o", str(part), sys.executable],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        part.unlink(missing_ok=True)
        return [f"cyclonedx-py: {run.stderr.strip()}"]
    components = len(json.loads(part.read_text()).get("components", []))
    os.replace(part, out)
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


CHECKS: dict[str, Callable[[], list[str]]] = {
    "pins": check_pins,
    "secrets": check_secrets,
    "bandit": check_bandit,
    "semgrep": check_semgrep,
    "sbom": write_sbom,
}


def main() -> int:
    args = sys.argv[1:]
    if args == ["--baseline"]:
        return write_baseline()
    if args == ["--tools-lock"]:
        return write_tools_lock()
    if args == ["--tools"]:  # only install the tools venv (CI, before its two passes start side by side)
        print(f"supply chain: tools in {tools_venv().parent.parent.name}")
        return 0
    only = args[1].split(",") if len(args) == 2 and args[0] == "--only" else list(CHECKS)
    problems: list[str] = []
    for name in only:
        started = time.perf_counter()
        found = CHECKS[name]()
        took = time.perf_counter() - started
        print(f"supply chain: {name}: {'ok' if not found else f'{len(found)} problem(s)'} ({took:.1f} s)")
        problems += found
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
