"""Fail when a Python module under clinicflow/ is longer than the limit (tests and migrations aside).

A long module holds several responsibilities: split it into a package, one module per
responsibility. Usage: ``python scripts/check_module_size.py [--max-lines N] [ROOT]``; prints each
offender as ``path: N lines`` and exits 1 when there is one.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MAX_LINES = 400


def is_checked(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return not (
        "tests" in parts
        or "migrations" in parts
        or path.name.startswith("test_")
        or path.name == "conftest.py"
    )


def line_count(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)


def offenders(root: Path, max_lines: int) -> Iterator[tuple[Path, int]]:
    for path in sorted(root.rglob("*.py")):
        if is_checked(path, root):
            lines = line_count(path)
            if lines > max_lines:
                yield path, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", type=Path, default=REPO / "clinicflow")
    parser.add_argument("--max-lines", type=int, default=MAX_LINES)
    args = parser.parse_args(argv)
    root = args.root.resolve()
    found = list(offenders(root, args.max_lines))
    for path, lines in found:
        shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path
        print(f"{shown}: {lines} lines (limit {args.max_lines})")
    if found:
        print(
            f"{len(found)} module(s) over {args.max_lines} lines: split them by responsibility",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
