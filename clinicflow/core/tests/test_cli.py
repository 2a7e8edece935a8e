"""The ``clinicflow`` entry point: Clinicflow's commands grouped by task, Django's on request."""

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

from clinicflow import cli

ROOT = Path(__file__).resolve().parents[3]
COMMANDS_DIRS = sorted(ROOT.glob("clinicflow/*/management/commands"))


def run_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    """The real console entry point in a fresh process (``python -m clinicflow.cli``)."""
    return subprocess.run(
        [sys.executable, "-m", "clinicflow.cli", *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        timeout=120,
        check=False,
    )


def own_commands() -> list[str]:
    return sorted(p.stem for d in COMMANDS_DIRS for p in d.glob("*.py") if not p.stem.startswith("_"))


def groups_of(text: str) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            current = line[:-1]
            groups[current] = []
        elif current and line.startswith("  "):
            groups[current].append(line.split()[0])
        elif not line:
            current = None
    return groups


def test_help_lists_every_clinicflow_command_grouped_by_task() -> None:
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    groups = groups_of(result.stdout)
    assert groups["Getting started"] == ["demo", "migrate", "createorg", "createuser"]
    assert groups["Running"] == ["runserver", "worker"]
    assert groups["Data"] == ["simulate", "analytics", "clv_calibration", "integrations"]
    assert groups["Security & audit"] == [
        "verify_audit",
        "audit_chain",
        "dbroles",
        "rotate_keys",
        "staffuser",
    ]
    listed = [name for names in groups.values() for name in names]
    assert set(own_commands()) <= set(listed)
    assert len(listed) == len(set(listed))
    # Django's maintenance commands are not listed, only pointed to.
    assert "dumpdata" not in listed and "sqlflush" not in result.stdout
    assert "clinicflow --all" in result.stdout and "clinicflow django <command>" in result.stdout


@pytest.mark.parametrize("argv", [[], ["help"], ["-h"]])
def test_bare_command_and_help_word_print_the_same_overview(argv, capsys) -> None:
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "Getting started:" in out and "Security & audit:" in out
    assert groups_of(out)["Running"] == ["runserver", "worker"]


def test_each_command_has_one_line_from_its_help(capsys) -> None:
    cli.main(["--help"])
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.startswith("  ")}
    commands = get_commands()
    for name in own_commands():
        help_text = str(load_command_class(commands[name], name).help)
        line = cli.summary(help_text)
        assert line and len(line) <= cli.SUMMARY_WIDTH and "…" not in line, (name, line)
        assert line.rstrip(".") in lines[name]


@pytest.mark.parametrize("argv", [["--all"], ["help", "--all"], ["--help", "--all"]])
def test_all_lists_django_commands_too(argv, capsys) -> None:
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "Getting started:" in out
    django_part = out.split("Django and library commands")[1]
    for name in ("dumpdata", "shell", "check", "createsuperuser", "loaddata"):
        assert f" {name} " in f" {django_part} ".replace("\n", " ")


def test_django_subcommand_runs_a_django_command() -> None:
    result = run_cli("django", "check")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_django_commands_still_run_by_their_own_name() -> None:
    result = run_cli("shell", "-c", "print(6 * 7)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "42"


def test_command_help_is_the_commands_own() -> None:
    result = run_cli("createorg", "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: clinicflow createorg")
    assert "--currency" in result.stdout
    result = run_cli("help", "createorg")
    assert result.stdout.startswith("usage: clinicflow createorg")


def test_summary_takes_the_first_sentence_on_one_line() -> None:
    assert cli.summary("Do a thing.  More about\n it.") == "Do a thing."
    assert cli.summary("Chain rows; then verify.") == "Chain rows."
    long = "word " * 40
    assert len(cli.summary(long)) <= cli.SUMMARY_WIDTH and cli.summary(long).endswith("…")


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parser and every nested sub-command's parser."""
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _parsers(sub)
    return found


@pytest.mark.parametrize("name", own_commands())
def test_every_commands_help_formats(name: str) -> None:
    """``--help`` of each command and of each of its sub-commands prints (a bare ``%`` in a help
    string made ``clinicflow analytics --help`` crash)."""
    command = load_command_class(get_commands()[name], name)
    for parser in _parsers(command.create_parser("clinicflow", name)):
        text = parser.format_help()
        assert text.startswith("usage: clinicflow"), (name, text[:80])
        for action in parser._actions:
            if action.help and action.help != argparse.SUPPRESS and action.dest != "help":
                assert action.dest.replace("_", "-") in text or str(action.metavar or "") in text, (
                    name,
                    action.dest,
                )
