"""A lint as a test: no ``<Model>.objects`` query in a view, API, webhook or task module.

Endpoints and tasks read through selectors that take the organisation (``patient_get(org=..., ...)``)
and write through services; a ``Model.objects`` there is a query that skips them, and with them the
tenant scoping. The test parses (never imports) every non-test module named ``views.py``, ``api.py``,
``public_views.py``, ``webhooks.py`` or ``tasks.py``, and every module inside a ``views/`` or ``api/``
package, under ``clinicflow/``, and fails on each ``<Name>.objects`` it finds, printed as
``path:line Model.objects``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2]  # clinicflow/
ROOT = PACKAGE.parent
ENDPOINT_MODULES = frozenset({"views.py", "api.py", "public_views.py", "webhooks.py", "tasks.py"})
ENDPOINT_PACKAGES = frozenset({"views", "api"})

# "path relative to the repository: Model" -> why that query may stay. Keep it short: a query that
# can go through a selector must.
ALLOWED: dict[str, str] = {}


def _is_test_or_migration(path: Path) -> bool:
    parts = path.relative_to(PACKAGE).parts
    return (
        "tests" in parts
        or "migrations" in parts
        or path.name.startswith("test_")
        or path.name == "conftest.py"
    )


def endpoint_modules() -> Iterator[Path]:
    """The view, API, webhook and task modules under ``clinicflow/``, tests and migrations excluded."""
    for path in sorted(PACKAGE.rglob("*.py")):
        if _is_test_or_migration(path):
            continue
        packages = set(path.relative_to(PACKAGE).parts[:-1])
        if path.name in ENDPOINT_MODULES or packages & ENDPOINT_PACKAGES:
            yield path


def model_queries(path: Path) -> Iterator[tuple[int, str]]:
    """(line, ``Name.objects``) for every ``<Name>.objects`` attribute access in the module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = [
        (node.lineno, f"{node.value.id}.objects")
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "objects" and isinstance(node.value, ast.Name)
    ]
    yield from sorted(found)


def offenders() -> list[str]:
    found = []
    for path in endpoint_modules():
        relative = path.relative_to(ROOT).as_posix()
        for line, query in model_queries(path):
            model = query.removesuffix(".objects")
            if f"{relative}: {model}" not in ALLOWED:
                found.append(f"{relative}:{line} {query}")
    return found


def test_the_lint_sees_endpoint_modules_and_nothing_else() -> None:
    seen = {path.relative_to(ROOT).as_posix() for path in endpoint_modules()}
    assert "clinicflow/patients/views.py" in seen
    assert "clinicflow/messaging/tasks.py" in seen
    assert "clinicflow/patients/services.py" not in seen
    assert not any("/tests/" in path or "/migrations/" in path for path in seen)


def test_the_lint_finds_a_model_query(tmp_path: Path) -> None:
    module = tmp_path / "views.py"
    module.write_text(
        "def page(request, pk):\n    return Patient.objects.filter(pk=pk).first()\n", encoding="utf-8"
    )
    assert list(model_queries(module)) == [(2, "Patient.objects")]


def test_no_model_query_in_views_api_webhooks_or_tasks() -> None:
    found = offenders()
    for offender in found:
        print(offender)
    assert not found, (
        "query through a selector that takes the organisation, not Model.objects:\n" + "\n".join(found)
    )


def test_the_allow_list_names_only_queries_that_still_exist() -> None:
    present = {
        f"{path.relative_to(ROOT).as_posix()}: {query.removesuffix('.objects')}"
        for path in endpoint_modules()
        for _, query in model_queries(path)
    }
    assert sorted(set(ALLOWED) - present) == []
