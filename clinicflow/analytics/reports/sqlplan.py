"""Running the reports' hand-joined statements so PostgreSQL's plan fits the data.

Those statements join CTEs (a period's first visits, their credited touches) whose sizes PostgreSQL
cannot estimate: a filtered CTE is guessed at a handful of rows, so the planner picks nested loops
that compare every first patient with every other (20 million comparisons, 15 s, for one month of
a 50,000-patient chain; ``EXPLAIN ANALYZE`` in docs/benchmarks.md). Every join in them is an
equality, which hash and merge joins serve in one pass, so nested loops are turned off for the one
statement (and the setting put back at once: ``RESET`` after it, or the rollback of a failed
transaction).
SQLite is left as it is."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection


def fetch_all(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of one statement (on PostgreSQL, planned without nested loops: two statements more,
    ``SET`` and ``RESET``; a ``SET`` in a transaction that fails is undone with it)."""
    with connection.cursor() as cur:
        if connection.vendor != "postgresql":
            # nosemgrep: sql-built-from-strings — callers pass SQL of ORM querysets and constants
            cur.execute(sql, params)
            return list(cur.fetchall())
        cur.execute("SET enable_nestloop = off")
        try:
            # nosemgrep: sql-built-from-strings — callers pass SQL of ORM querysets and constants
            cur.execute(sql, params)
            return list(cur.fetchall())
        finally:
            if not connection.needs_rollback and not _aborted():
                cur.execute("RESET enable_nestloop")


def _aborted() -> bool:
    """Whether the connection's transaction failed (its SET is undone when it is rolled back)."""
    info = getattr(connection.connection, "info", None)
    return info is not None and str(getattr(info, "transaction_status", "")).endswith("INERROR")
