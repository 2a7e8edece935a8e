"""The ``clinicflow`` console command.

``clinicflow`` (or ``--help``, ``help``) lists Clinicflow's own commands grouped by task, one line
each (the first sentence of the command's ``help``); ``--all`` adds every Django command.
``clinicflow <command> ...`` runs any management command, Clinicflow's or Django's, and
``clinicflow django <command> ...`` runs a Django command by that explicit name.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TextIO

from django.core.management import execute_from_command_line  # reads the settings only when run

PROG = "clinicflow"
HELP_WORDS = frozenset({"-h", "--help", "help"})
ALL_FLAG = "--all"
SUMMARY_WIDTH = 100  # a command's one-line summary is cut at a word boundary beyond this

# Commands by task, in the order shown; Clinicflow commands not named here are listed under "Other".
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Getting started", ("demo", "migrate", "createorg", "createuser")),
    ("Running", ("runserver", "worker")),
    ("Data", ("simulate", "analytics", "clv_calibration", "integrations")),
    ("Security & audit", ("verify_audit", "audit_chain", "dbroles", "rotate_keys", "staffuser")),
)
OTHER_GROUP = "Other"


def _configure() -> None:
    if os.environ.get("CLINICFLOW_ENV", "").lower() == "production":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_production")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def summary(help_text: str) -> str:
    """The first sentence of a command's ``help`` on one line, at most ``SUMMARY_WIDTH`` characters."""
    text = " ".join(help_text.split())
    for end in (". ", "; "):
        head, sep, _ = text.partition(end)
        if sep:
            text = head + "."
            break
    if len(text) > SUMMARY_WIDTH:
        text = text[: SUMMARY_WIDTH - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return text


def _command_help(app: str, name: str) -> str:
    from django.core.management import load_command_class

    try:
        return str(load_command_class(app, name).help or "")
    except Exception as exc:
        return f"(cannot be loaded: {type(exc).__name__})"


def grouped_commands() -> list[tuple[str, list[tuple[str, str]]]]:
    """``[(group, [(command, one-line summary), ...]), ...]`` for Clinicflow's commands."""
    import django
    from django.core.management import get_commands

    django.setup()
    commands = get_commands()  # name -> app (or "django.core")
    ours = sorted(n for n, app in commands.items() if app.startswith("clinicflow"))
    listed: set[str] = set()
    result: list[tuple[str, list[tuple[str, str]]]] = []
    for title, names in GROUPS:
        rows = [(n, summary(_command_help(commands[n], n))) for n in names if n in commands]
        listed.update(names)
        if rows:
            result.append((title, rows))
    other = [(n, summary(_command_help(commands[n], n))) for n in ours if n not in listed]
    if other:
        result.append((OTHER_GROUP, other))
    return result


def print_overview(out: TextIO, *, show_all: bool) -> None:
    groups = grouped_commands()
    width = max((len(name) for _, rows in groups for name, _ in rows), default=0)
    lines = [
        f"Usage: {PROG} <command> [options]     ({PROG} <command> --help for a command's options)",
        "",
    ]
    for title, rows in groups:
        lines.append(f"{title}:")
        lines.extend(f"  {name.ljust(width)}  {text}".rstrip() for name, text in rows)
        lines.append("")
    if show_all:
        from django.core.management import get_commands

        shown = {name for _, rows in groups for name, _ in rows}
        rest = sorted(
            n for n, app in get_commands().items() if n not in shown and not app.startswith("clinicflow")
        )
        lines.append("Django and library commands (also as `clinicflow django <command>`):")
        lines.extend(_columns(rest))
    else:
        lines.append(
            f"Django's maintenance commands (dumpdata, shell, check, …): `{PROG} --all` lists them; "
            f"`{PROG} django <command>` or `{PROG} <command>` runs them."
        )
    out.write("\n".join(lines) + "\n")


def _columns(names: Sequence[str], width: int = 96) -> list[str]:
    if not names:
        return []
    cell = max(len(n) for n in names) + 2
    per_line = max(1, (width - 2) // cell)
    return [
        "  " + "".join(n.ljust(cell) for n in names[i : i + per_line]).rstrip()
        for i in range(0, len(names), per_line)
    ]


def main(argv: list[str] | None = None) -> int:
    _configure()
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in HELP_WORDS or args[0] == ALL_FLAG:
        rest = args[1:] if args and args[0] in HELP_WORDS else args
        if all(a == ALL_FLAG for a in rest):
            print_overview(sys.stdout, show_all=bool(rest))
            return 0
        # `clinicflow help <command>`: Django's own help for that command.
        execute_from_command_line([PROG, "help", *rest])
        return 0
    if args[0] == "django":
        args = args[1:]  # `clinicflow django` alone prints Django's list of every command
    execute_from_command_line([PROG, *args])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
