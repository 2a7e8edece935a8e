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

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection
from django.db.models import BooleanField, F, Func, QuerySet
from django.db.models.expressions import RawSQL


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


Rows = TypeVar("Rows", bound=QuerySet[Any, Any])


@dataclass(frozen=True)
class IdArray:
    """Patients (or other rows) named by id, bound as one array: on PostgreSQL a filter on them is
    ``column = ANY(%s::uuid[])``, a condition of the (organisation, patient) index itself, read row by
    row from it (``of_ids``). The form ``IN (SELECT unnest(...))`` is a join, which the fact statements,
    planned without nested loops, served by reading the whole table (chain-1m: each of a day's ten
    statements read every appointment, payment or call: 70 s for 50,000 patients)."""

    ids: tuple[uuid.UUID, ...]

    def __len__(self) -> int:
        return len(self.ids)


def id_array(ids: Sequence[Any]) -> str:
    """Ids as one PostgreSQL array literal (``'{a,b,...}'``, bound as one string and cast with
    ``%s::uuid[]``): the driver then quotes one string instead of adapting each element (0.3 s of a
    chain's day of facts for its ~200,000 ids)."""
    return "{" + ",".join("NULL" if i is None else str(i) for i in ids) + "}"


class _AnyOf(Func):
    arg_joiner = " = ANY("
    template = "(%(expressions)s))"
    output_field = BooleanField()


def of_ids(qs: Rows, ids: Any, field: str = "patient_id") -> Rows:
    """``qs`` filtered to ``field`` in ``ids``: an ``IdArray`` as one array (``= ANY`` on PostgreSQL),
    anything else (a list, a subquery) as ``field__in``; None: not filtered."""
    if ids is None:
        return qs
    if isinstance(ids, IdArray | list | tuple | set) and not ids:
        # none: a filter no row meets that still compiles (an empty ``IN`` list raises at compile time,
        # which the statements built from ``qs``'s SQL cannot take)
        return qs.filter(pk__isnull=True)
    if isinstance(ids, IdArray):
        if connection.vendor == "postgresql":
            return qs.filter(_AnyOf(F(field), RawSQL("%s::uuid[]", (id_array(ids.ids),))))
        ids = list(ids.ids)
    return qs.filter(**{f"{field}__in": ids})
