"""The owner's facts cleared and written by the full rebuild (issue #17, the channel, cohort, value,
split, traffic and front-desk facts): the new rows' ids time-ordered on PostgreSQL (``row_id``: the
``core.ids.uuid7`` layout, numbered by the statement), so a build's rows go to the last pages of the
primary key's index, not a row on a random page each (at chain-1m a fact table's index is hundreds
of megabytes: random inserts read and log a page per row), random elsewhere (``factsql.new_id``); and
an organisation's old rows cleared before a full build (``clear``), by ``TRUNCATE`` where no other
organisation has rows in the table (deleting chain-1m's channel facts row by row took 16 s, and left
the table and its indexes twice their size until a vacuum)."""

from __future__ import annotations

from typing import Any

from django.db import connection

from clinicflow.analytics.owner.fact_ids import SEQ_ID
from clinicflow.analytics.owner.factsql import new_id
from clinicflow.core.models import Organization


def row_id() -> str:
    """SQL of a new fact row's id (never referred to by another row), once in a statement's ``SELECT``
    list: on PostgreSQL ``fact_ids.SEQ_ID`` (time-ordered, numbered by the statement: a random draw
    per row cost more than the rest of writing it — 5 µs a ``gen_random_uuid()``, 7 µs the former
    ``facts_firsts.UUID7`` here, against 1.5 µs)."""
    return SEQ_ID if connection.vendor == "postgresql" else new_id()


def _others(table: str, org: Organization) -> bool:
    """Whether another organisation has rows in the table: the nearest organisation id below and above
    this one, each read from the end of its organisation-first index (never a scan of the table)."""
    nearest = (
        "(SELECT organization_id FROM {t} WHERE organization_id {op} %s ORDER BY organization_id{d} LIMIT 1)"
    )
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    below = nearest.format(t=table, op="<", d=" DESC")  # nosec B608
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    above = nearest.format(t=table, op=">", d="")  # nosec B608
    with connection.cursor() as cur:
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(f"SELECT {below} IS NOT NULL OR {above} IS NOT NULL", [org.pk, org.pk])  # nosec B608
        row = cur.fetchone()
        return bool(row and row[0])


def clear(org: Organization, *models: Any) -> None:
    """Every row of the organisation deleted from these fact tables (a full build, in its transaction).
    On PostgreSQL a table that holds no other organisation's rows is truncated instead, under an
    exclusive lock held to the end of the transaction (checked again once locked: no one else writes
    it then): the reports' reads of that table wait for the build to commit, as they would otherwise
    see the former rows."""
    for model in models:
        table = model._meta.db_table
        if connection.vendor == "postgresql" and connection.in_atomic_block and not _others(table, org):
            with connection.cursor() as cur:
                # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
                cur.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            if not _others(table, org):
                with connection.cursor() as cur:
                    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
                    cur.execute(f"TRUNCATE {table}")
                continue
        model.objects.for_org(org).delete()
