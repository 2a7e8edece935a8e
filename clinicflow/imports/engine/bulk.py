"""Batch writes: the source-id map and a fast insert (COPY on PostgreSQL, ``bulk_create`` elsewhere)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models

from clinicflow.core.ids import uuid7
from clinicflow.core.models import Organization
from clinicflow.imports.models import ImportJob, IssueLevel, SourceRecord


@dataclass
class Issue:
    line: int
    field: str
    problem: str
    value: str = ""
    level: str = IssueLevel.ERROR
    object_id: uuid.UUID | None = None
    other_id: uuid.UUID | None = None


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    flagged: int = 0
    issues: list[Issue] = field(default_factory=list)
    extra: dict[str, int] = field(default_factory=dict)  # services / doctors / campaigns created

    def add(self, other: BatchResult) -> None:
        for name in ("created", "updated", "unchanged", "skipped", "flagged"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.issues.extend(other.issues)
        for key, n in other.extra.items():
            self.extra[key] = self.extra.get(key, 0) + n

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.level == IssueLevel.ERROR]


def known(*, org: Organization, source: str, kind: str, ids: Iterable[str]) -> dict[str, uuid.UUID]:
    """Source id → object id of the rows of ``source``/``kind`` imported before."""
    wanted = list(set(ids))
    found: dict[str, uuid.UUID] = {}
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        found.update(
            SourceRecord.objects.for_org(org)
            .filter(source=source, kind=kind, source_id__in=chunk)
            .values_list("source_id", "object_id")
        )
    return found


def remember(
    *,
    org: Organization,
    source: str,
    kind: str,
    job: ImportJob | None,
    pairs: Sequence[tuple[str, uuid.UUID]],
) -> None:
    job_id = job.pk if job is not None else None
    insert_rows(
        SourceRecord,
        ("id", "organization_id", "source", "kind", "source_id", "object_id", "job_id"),
        [(uuid7(), org.pk, source, kind, sid, oid, job_id) for sid, oid in pairs],
    )


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _escaped(value: str) -> str:
    return value.translate(_ESCAPES)


def _iso(value: dt.date) -> str:
    return value.isoformat()


# COPY's text format per Python type (plain values only); anything else is its str()
_FORMATS: dict[type, Callable[[Any], str]] = {
    str: _escaped,
    type(None): lambda _v: "\\N",
    bool: lambda v: "t" if v else "f",
    dt.datetime: _iso,
    dt.date: _iso,
}


def _copy_line(row: Sequence[Any]) -> str:
    return "\t".join([_FORMATS.get(type(v), str)(v) for v in row]) + "\n"


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert plain rows (attribute names ``columns``; values that need no ORM preparation — no
    encrypted or blind-indexed columns): one COPY in text format on PostgreSQL, ``bulk_create``
    elsewhere."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        objs = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model._default_manager.bulk_create(objs, batch_size=500)
        return
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    names = ", ".join(connection.ops.quote_name(str(by_attname[c].column)) for c in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    text = "".join(map(_copy_line, rows))
    connection.ensure_connection()
    raw: Any = connection.connection
    with (
        connection.wrap_database_errors,
        raw.cursor() as cursor,
        cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        copy.write(text.encode())


def insert(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Insert new rows: PostgreSQL's COPY (values prepared as the ORM would: encrypted columns sealed,
    blind indexes computed), ``bulk_create`` on other databases."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs, batch_size=500)
        return
    fields = list(model._meta.concrete_fields)
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    connection.ensure_connection()
    raw: Any = connection.connection
    with (
        connection.wrap_database_errors,
        raw.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for obj in objs:
            copy.write_row([f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields])
