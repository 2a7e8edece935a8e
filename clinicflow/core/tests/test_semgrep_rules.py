"""The local semgrep rules (``scripts/semgrep_rules.yml``) fire on their bad fixtures and stay quiet on
the good ones (``semgrep_fixtures/{bad,good}/<rule_id>.*``; each bad line is marked ``ruleid``).

semgrep lives in ``.venv-tools`` (``scripts/check_supply_chain.py`` installs it; ``make test`` runs
that check before pytest). Without it the test is skipped, except under CI, where it fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).resolve().parent / "semgrep_fixtures"
RULES = ROOT / "scripts" / "semgrep_rules.yml"
SEMGREP = ROOT / ".venv-tools" / "bin" / "semgrep"
OUT = ("--json", "--quiet")


def rule_ids() -> list[str]:
    return [rule["id"] for rule in yaml.safe_load(RULES.read_text())["rules"]]


@cache
def findings() -> dict[str, set[tuple[str, int]]]:
    """rule id -> {(fixture path relative to FIXTURES, line)} of one semgrep run over every fixture."""
    if not SEMGREP.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{SEMGREP} is missing: run scripts/check_supply_chain.py first")
        pytest.skip(
            f"{SEMGREP} is missing: run `{sys.executable} scripts/check_supply_chain.py --only semgrep`"
        )
    files = sorted(str(p) for p in FIXTURES.glob("*/*") if p.suffix in (".py", ".html"))
    run = subprocess.run(
        [
            str(SEMGREP),
            "scan",
            "--config",
            str(RULES),
            "--metrics=off",
            "--disable-version-check",
            *OUT,
            *files,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report: dict[str, Any] = json.loads(run.stdout)
    assert not report["errors"], report["errors"]
    out: dict[str, set[tuple[str, int]]] = {}
    for result in report["results"]:
        rule = result["check_id"].rsplit(".", 1)[-1]
        path = Path(result["path"]).resolve().relative_to(FIXTURES)
        out.setdefault(rule, set()).add((str(path), result["start"]["line"]))
    return out


def fixture(kind: str, rule: str) -> Path:
    (path,) = FIXTURES.glob(f"{kind}/{rule.replace('-', '_')}.*")
    return path


def marked_lines(path: Path) -> set[int]:
    return {n for n, line in enumerate(path.read_text().splitlines(), start=1) if "ruleid" in line}


def test_every_rule_has_a_bad_and_a_good_fixture() -> None:
    names = {p.stem for p in FIXTURES.glob("*/*") if p.suffix in (".py", ".html")}
    assert names == {rule.replace("-", "_") for rule in rule_ids()}


@pytest.mark.parametrize("rule", rule_ids())
def test_rule_fires_on_each_bad_line(rule: str) -> None:
    bad = fixture("bad", rule)
    expected = {(str(bad.relative_to(FIXTURES)), n) for n in marked_lines(bad)}
    assert expected, f"{bad} marks no line with ruleid"
    found = {hit for hit in findings().get(rule, set()) if hit[0].startswith("bad/")}
    assert found == expected


@pytest.mark.parametrize("rule", rule_ids())
def test_rule_is_quiet_on_good_code(rule: str) -> None:
    good = str(fixture("good", rule).relative_to(FIXTURES))
    assert not [hit for rules in findings().values() for hit in rules if hit[0] == good]
