"""Batch writes: the source-id map and a fast insert (COPY on PostgreSQL, ``bulk_create`` elsewhere)."""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import operator
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, models
from django.db.models import Lookup

from clinicflow.core.fields import BlindIndexField, EncryptedTextField
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


class AnyOf(Lookup):
    """``field = ANY(%s)`` with the values as one array parameter (PostgreSQL): a batch's 5,000 keys
    are one bound value, not 5,000 placeholders for Django to build and psycopg to split."""

    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        return list(self.rhs)

    def get_db_prep_lookup(self, value: Any, connection: Any) -> Any:
        values = list(value)
        if all(type(v) is str for v in values):  # one text literal: no array dumper walking the values
            return "%s::text[]", [text_array(values)]
        return "%s", [values]

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


def text_array(values: Iterable[str]) -> str:
    """PostgreSQL's literal of a ``text[]`` of ``values``: each element double-quoted, its backslashes
    and double quotes escaped."""
    quoted = (v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{v}"' for v in quoted) + "}"


def register_any(model: type[models.Model], *names: str) -> None:
    """The ``__any`` lookup on these fields only (registered on the field instances)."""
    for name in names:
        found = model._meta.get_field(name)
        assert isinstance(found, models.Field)
        found.register_lookup(AnyOf)


class Packed:
    """A batch's keys handed to ``__any`` whole: not a list, so the ORM does not walk its 5,000 values
    looking for expressions to resolve (``Query.resolve_lookup_value``)."""

    def __init__(self, values: Sequence[Any]) -> None:
        self.values = values

    def __iter__(self) -> Iterator[Any]:
        return iter(self.values)


def among(name: str, values: Sequence[Any]) -> dict[str, Any]:
    """The filter "``name`` is one of ``values``": ``__any`` (one array) on PostgreSQL, ``__in``
    elsewhere. The field must have the lookup (``register_any``)."""
    if connection.vendor == "postgresql":
        return {f"{name}__any": Packed(values)}
    return {f"{name}__in": values}


register_any(SourceRecord, "source_id")


def per_key(inner: str, keys: Iterable[str], params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """PostgreSQL: the rows of ``inner`` (a ``SELECT`` naming the key ``k.v``, its other values bound
    from ``params``) for each of ``keys`` in turn, each row led by its key: one statement, one index
    descent per key, whatever the statistics say.

    ``column = ANY(5,000 keys)`` is planned from the statistics, and during an import they lag (taken
    before the job's rows existed, or never: autovacuum comes a minute apart at best and does not see
    an all-or-nothing job's uncommitted rows). The planner then filtered every row of the organisation
    and kind by the keys, or scanned the whole table, instead of descending the index per key — every
    batch, so a job slowed as it grew: a 500,000-row file spent most of its time there. A lateral
    subquery that cannot be pulled up (``OFFSET 0``) leaves the planner nothing but the per-key
    descent. The keys go sorted (neighbouring index pages one after the other) as one ``text[]``."""
    wanted = sorted(set(keys))
    if not wanted:
        return []
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    sql = f"SELECT k.v, x.* FROM unnest(%s::text[]) AS k(v) CROSS JOIN LATERAL ({inner} OFFSET 0) AS x"  # nosec B608 # noqa: S608 - the callers' constant subqueries
    with connection.cursor() as cursor:
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cursor.execute(sql, [text_array(wanted), *params])
        return list(cursor.fetchall())


def known(*, org: Organization, source: str, kind: str, ids: Iterable[str]) -> dict[str, uuid.UUID]:
    """Source id → object id of the rows of ``source``/``kind`` imported before."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(SourceRecord._meta.db_table)
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        inner = (
            f"SELECT r.object_id FROM {table} r WHERE r.organization_id = %s AND r.source = %s"  # nosec B608 # noqa: S608 - names from model meta
            " AND r.kind = %s AND r.source_id = k.v"
        )
        return dict(per_key(inner, ids, [org.pk, source, kind]))
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
        [
            (i, org.pk, source, kind, sid, oid, job_id)
            for i, (sid, oid) in zip(uuid7_many(len(pairs)), pairs, strict=True)
        ],
    )


def uuid7_many(n: int) -> list[uuid.UUID]:
    """``n`` UUIDv7 of this millisecond (the layout of ``core.ids.uuid7``: 48 bits of Unix ms, version,
    variant, 74 random bits from ``os.urandom``), built from integers without ``UUID.__init__``'s
    checks: a 500,000-row file needs a million and a half of them."""
    head = (time.time_ns() // 1_000_000) << 80 | 0x7 << 76 | 0b10 << 62
    rand = os.urandom(10 * n)
    out: list[uuid.UUID] = []
    new, setattr_, unknown = object.__new__, object.__setattr__, uuid.SafeUUID.unknown
    for i in range(n):
        r = int.from_bytes(rand[10 * i : 10 * i + 10], "big")
        value = head | (r >> 68) << 64 | (r & ((1 << 62) - 1))
        u = new(uuid.UUID)
        setattr_(u, "int", value)
        setattr_(u, "is_safe", unknown)
        out.append(u)
    return out


def _plain(value: Any) -> Any:
    """A value as COPY takes it: an enum member (a model's choices) as its value."""
    return value.value if isinstance(value, enum.Enum) else value


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert plain rows (attribute names ``columns``; values that need no ORM preparation — no
    encrypted or blind-indexed columns; enum members are not plain: pass their values): one COPY on
    PostgreSQL, ``bulk_create`` elsewhere."""
    if not rows:
        return
    if connection.vendor != "postgresql" or not COPY:
        objs = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model._default_manager.bulk_create(objs, batch_size=500)
        return
    insert_columns(model, columns, [list(c) for c in zip(*rows, strict=True)])


def insert_columns(model: type[models.Model], columns: Sequence[str], values: Sequence[list[Any]]) -> None:
    """``insert_rows`` given a list of values per column (PostgreSQL only): one COPY in its text format."""
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    names = ", ".join(connection.ops.quote_name(str(by_attname[c].column)) for c in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    connection.ensure_connection()
    raw: Any = connection.connection
    with (
        connection.wrap_database_errors,
        raw.cursor() as cursor,
        cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        copy.write(copy_text(values))


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"


def _other(value: Any) -> str:
    if isinstance(value, enum.Enum):  # a model's choice: its value
        return _cell(value.value)
    if isinstance(value, str):  # a str subclass
        return str.__str__(value).translate(_ESCAPES)
    if isinstance(value, (dt.date, dt.time)):  # datetime subclasses
        return value.isoformat()
    raise TypeError(f"no COPY text form for {type(value).__name__}")


_FORMS: dict[type, Callable[[Any], str]] = {
    str: lambda s: s.translate(_ESCAPES),
    uuid.UUID: operator.attrgetter("hex"),  # 32 hex digits: PostgreSQL reads them without the dashes
    int: int.__str__,
    Decimal: str,
    bool: lambda b: "t" if b else "f",
    dt.datetime: dt.datetime.isoformat,  # aware: with its offset, which PostgreSQL reads back exactly
    dt.date: dt.date.isoformat,
    type(None): lambda _n: _NULL,
}


def _cell(value: Any) -> str:
    return _FORMS.get(type(value), _other)(value)


def _column_text(values: list[Any]) -> Iterable[str]:
    """One column's cells as COPY text: a column of one type goes through one C-level ``map``."""
    kinds = set(map(type, values))
    if len(kinds) == 1:
        kind = kinds.pop()
        if kind is str:
            return map(str.translate, values, itertools.repeat(_ESCAPES, len(values)))
        if kind is type(None):
            return itertools.repeat(_NULL, len(values))
        if kind in _FORMS:
            return map(_FORMS[kind], values)
        if issubclass(kind, enum.Enum):  # a model's choice throughout: its value
            return _column_text([v.value for v in values])
    return map(_cell, values)


def copy_text(columns: Sequence[list[Any]]) -> bytes:
    """Rows given column by column in COPY's text format (tab-separated, ``\\N`` for NULL, backslash
    escapes): what psycopg's ``write_row`` sends for these types, built a column at a time by C-level
    maps instead of a Python dumper call per cell."""
    if not columns or not columns[0]:
        return b""
    lines = list(map("\t".join, zip(*map(_column_text, columns), strict=True)))
    lines.append("")
    return "\n".join(lines).encode()


def insert(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Insert new rows: PostgreSQL's COPY (values prepared as the ORM would: encrypted columns sealed,
    blind indexes computed), ``bulk_create`` on other databases."""
    if not objs:
        return
    if connection.vendor != "postgresql" or not COPY:
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


COPY = True  # False: bulk_create on PostgreSQL too (the equality test's plain path)
SEALED = ":sealed"  # insert_records: the key of an encrypted column's value already sealed


def insert_records(model: type[models.Model], records: Sequence[dict[str, Any]]) -> None:
    """Insert new rows of one organisation given as ``{attname: plain value}`` (the primary key and
    ``organization_id`` given; a missing column takes its field's default, computed once per call; a
    blind index given in the first record is taken as given in every record, else computed; so is an
    encrypted column's stored form given as ``<attname>:sealed``).
    On PostgreSQL the encrypted columns are sealed and the blind indexes computed a column at a time
    (``seal_column``/``index_column``: what the ORM would store, without a model instance per row),
    then one text COPY; elsewhere ``bulk_create`` of model instances."""
    if not records:
        return
    if connection.vendor != "postgresql" or not COPY:
        objs = [model(**{k: v for k, v in r.items() if not k.endswith(SEALED)}) for r in records]
        model._default_manager.bulk_create(objs, batch_size=500)
        return
    fields = list(model._meta.concrete_fields)
    org_id = records[0]["organization_id"]
    plain: dict[str, list[Any]] = {}
    for f in fields:
        if not isinstance(f, BlindIndexField):
            # psycopg dumps a str-valued choice (TextChoices) as its value; the default is made plain
            default = None if f.primary_key else _plain(f.get_default())
            plain[f.attname] = [r.get(f.attname, default) for r in records]
    stored: list[list[Any]] = []
    for f in fields:
        if isinstance(f, BlindIndexField):
            if f.attname in records[0]:  # computed by the caller (it matched duplicates with it)
                stored.append([r[f.attname] for r in records])
            else:
                stored.append(f.index_column(org_id, [v or "" for v in plain[f.source]]))
        elif isinstance(f, EncryptedTextField):
            if f.attname + SEALED in records[0]:  # sealed by the caller (the reader, ahead)
                stored.append([r[f.attname + SEALED] for r in records])
            else:
                stored.append(f.seal_column([v or "" for v in plain[f.attname]]))
        else:
            stored.append(plain[f.attname])
    insert_columns(model, [f.attname for f in fields], stored)
