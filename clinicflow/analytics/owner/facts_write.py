"""The full rebuild's writes of the day, revenue and first-visit facts (issue #17): ``replace_rows``
makes a table's rows of a scope those of a staged source, deleting and inserting only the rows that
differ — a rebuild of facts that are current writes next to nothing (writing every row again, its
indexes and WAL, cost more than computing them); ``UUID7`` is the SQL of a new fact's id. PostgreSQL
only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

NEW_ROWS = "owner_new_rows"  # ``replace_rows``' source, a temporary table
# a time-ordered id (the ``core.ids.uuid7`` layout: 48 bits of Unix milliseconds, version 7)
UUID7 = (
    "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing "
    "substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) "
    "FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid"
)


def _same(cols: Sequence[str], nullable: Sequence[str], a: str, b: str) -> str:
    """Rows ``a`` and ``b`` equal in every column (hashable: a null uuid compared as the zero uuid)."""
    null = "'00000000-0000-0000-0000-000000000000'::uuid"
    return " AND ".join(
        f"COALESCE({a}.{c}, {null}) = COALESCE({b}.{c}, {null})" if c in nullable else f"{a}.{c} = {b}.{c}"
        for c in cols
    )


def replace_rows(
    table: str, cols: Sequence[str], nullable: Sequence[str], scope: str, args: dict[str, Any]
) -> int:
    """Make the rows of ``table`` in ``scope`` (a condition on the alias ``{a}``) the rows of the temporary
    table ``owner_new_rows`` (``cols``; ``nullable``: those of them that can be null, uuids), which is
    dropped after: the rows no longer there (and any second copy of a row) are deleted, the new ones
    inserted with new ids, the others left as they are — a rebuild of current facts writes next to
    nothing (writing every row again, with its indexes and WAL, cost more than computing them).
    Both are hash anti-joins on every column (a scope without rows yet: a plain insert); returns the
    number of rows (those of the source)."""
    names, here = ", ".join(cols), scope.format(a="t")
    with connection.cursor() as cur:
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(f"ANALYZE {NEW_ROWS}")
        cur.execute("SELECT current_setting('enable_nestloop'), current_setting('enable_mergejoin')")
        was = cur.fetchone() or ("on", "on")
        # hashed, the table's side first: no sort, and no loop over a table growing under the insert
        # (an empty table's estimate chose a nested loop rescanning the rows just inserted: quadratic)
        cur.execute("SET LOCAL enable_nestloop = off")
        cur.execute("SET LOCAL enable_mergejoin = off")
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(f"SELECT EXISTS (SELECT 1 FROM {table} t WHERE {here})", args)  # noqa: S608 - names from model meta  # nosec B608
        if not (cur.fetchone() or (False,))[0]:  # none yet (a first build): every row inserted
            cur.execute(
                # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
                f"INSERT INTO {table} (id, organization_id, {names}) SELECT {UUID7}, %(org)s, {names} "  # noqa: S608 - names from model meta  # nosec B608
                f"FROM {NEW_ROWS} n",
                args,
            )
            rows = cur.rowcount
        else:
            rows = _replace(cur, table, cols, nullable, scope, args)
        cur.execute(  # as they were
            "SELECT set_config('enable_nestloop', %s, true), set_config('enable_mergejoin', %s, true)",
            list(was),
        )
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(f"DROP TABLE {NEW_ROWS}")
    return int(rows)


def _replace(
    cur: Any, table: str, cols: Sequence[str], nullable: Sequence[str], scope: str, args: dict[str, Any]
) -> int:
    """``replace_rows`` where the scope has rows: the two anti-joins, then any second copy removed."""
    same, names = _same(cols, nullable, "n", "t"), ", ".join(cols)
    here = scope.format(a="t")
    cur.execute(
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        f"DELETE FROM {table} t WHERE {here} AND NOT EXISTS (SELECT 1 FROM {NEW_ROWS} n WHERE {same})",  # noqa: S608 - names from model meta  # nosec B608
        args,
    )
    cur.execute(
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        f"INSERT INTO {table} (id, organization_id, {names}) SELECT {UUID7}, %(org)s, {names} "  # noqa: S608 - names from model meta  # nosec B608
        f"FROM {NEW_ROWS} n WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {here} AND {same})",
        args,
    )
    count = f"SELECT (SELECT COUNT(*) FROM {table} t WHERE {here}), (SELECT COUNT(*) FROM {NEW_ROWS})"  # noqa: S608 - names from model meta  # nosec B608
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    cur.execute(count, args)
    kept, rows = cur.fetchone() or (0, 0)
    if kept > rows:  # a row kept twice (two writers of the same days once): one copy goes
        cur.execute(
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            f"DELETE FROM {table} t USING {table} u WHERE {here} AND {scope.format(a='u')} "  # noqa: S608 - names from model meta  # nosec B608
            f"AND {_same(cols, nullable, 'u', 't')} AND u.ctid < t.ctid",
            args,
        )
    return int(rows)
