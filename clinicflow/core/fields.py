"""Model fields for encrypted columns (``core.crypto``).

``EncryptedTextField`` stores AES-GCM ciphertext bound to its ``table.column`` and gives back the
plaintext on every ORM read (instances, ``values()``, ``values_list()``); it cannot be filtered or
ordered on meaningfully, so every lookup but ``isnull`` raises ``FieldError``. An empty value is
stored empty.

``BlindIndexField`` holds the blind index of another field of the same row: ``save()`` and
``bulk_create()`` compute it (``pre_save``), ``BlindIndexQuerySet`` recomputes it in ``bulk_update``
and refuses an ``update()`` that changes the source without it. Writers that bypass the ORM
(the simulator's COPY) call ``seal_column`` / ``index_column``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django import forms
from django.apps import apps
from django.core.exceptions import FieldError
from django.db import connection, models, transaction

from clinicflow.core import crypto
from clinicflow.core.models import TenantQuerySet


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    description = "Text encrypted with AES-GCM"

    def __init__(self, *args: Any, multiline: bool = True, **kwargs: Any) -> None:
        self.multiline = multiline
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if not self.multiline:
            kwargs["multiline"] = False
        return name, path, args, kwargs

    @property
    def context(self) -> str:
        """What the ciphertext is bound to: ``<table>.<column>``."""
        return f"{self.model._meta.db_table}.{self.column}"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if not value:
            return value
        return crypto.decrypt(value, context=self.context)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value), context=self.context)

    def seal_column(self, values: Sequence[str]) -> list[str]:
        """Bulk writers: the stored form of each plaintext value."""
        return crypto.encrypt_many(values, context=self.context)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(
            f"{self.model.__name__}.{self.name} is encrypted and cannot be filtered with "
            f"__{lookup_name}; look it up by its blind index"
        )

    def get_transform(self, lookup_name: str) -> Any:
        raise FieldError(f"{self.model.__name__}.{self.name} is encrypted; __{lookup_name} is not available")

    def formfield(self, **kwargs: Any) -> Any:
        if not self.multiline:
            kwargs.setdefault("widget", forms.TextInput)
        return super().formfield(**kwargs)


class BlindIndexField(models.CharField):  # type: ignore[type-arg]
    """The organisation-scoped blind index (``crypto.blind_index``) of the field ``source``."""

    description = "HMAC blind index of another field"

    def __init__(self, *args: Any, source: str, purpose: str, **kwargs: Any) -> None:
        self.source = source
        self.purpose = purpose
        kwargs.setdefault("max_length", crypto.INDEX_HEX)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs["purpose"] = self.purpose
        for key, default in (
            ("max_length", crypto.INDEX_HEX),
            ("editable", False),
            ("blank", True),
            ("default", ""),
        ):
            if kwargs.get(key, object()) == default:
                kwargs.pop(key)
        return name, path, args, kwargs

    def compute(self, instance: models.Model) -> str:
        tenant_row: Any = instance  # every model with a blind index is a TenantModel
        return crypto.blind_index(
            self.purpose, tenant_row.organization_id, getattr(instance, self.source) or ""
        )

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = self.compute(model_instance)
        setattr(model_instance, self.attname, value)
        return value

    def index_column(self, org_id: Any, values: Sequence[str]) -> list[str]:
        """Bulk writers: the index of each plaintext value of one organisation."""
        return crypto.blind_indexes(self.purpose, org_id, values)


def blind_index_fields(model: type[models.Model]) -> list[BlindIndexField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]


class BlindIndexedModel(models.Model):
    """``save(update_fields=[source])`` also saves the source's blind index."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        names = kwargs.get("update_fields")
        if names is not None:
            names = set(names)
            names |= {f.name for f in blind_index_fields(type(self)) if f.source in names}
            kwargs["update_fields"] = names
        super().save(*args, **kwargs)


_M = TypeVar("_M", bound=models.Model)


class BlindIndexQuerySet(TenantQuerySet[_M]):
    """Keeps blind indexes in step on the bulk paths that skip ``pre_save``."""

    def update(self, **kwargs: Any) -> int:
        for field in blind_index_fields(self.model):
            if field.source in kwargs and field.name not in kwargs:
                raise TypeError(
                    f"{self.model.__name__}.update({field.source}=...) must also set {field.name} "
                    f"(crypto.blind_index), or save the rows"
                )
        return super().update(**kwargs)

    def bulk_update(self, objs: Any, fields: Iterable[str], batch_size: int | None = None) -> int:
        objs = list(objs)
        fields = list(fields)
        for field in blind_index_fields(self.model):
            if field.source in fields:
                for obj in objs:
                    setattr(obj, field.attname, field.compute(obj))
                if field.name not in fields:
                    fields.append(field.name)
        return super().bulk_update(objs, fields, batch_size=batch_size)


BlindIndexManager = models.Manager.from_queryset(BlindIndexQuerySet)


# -- key rotation --------------------------------------------------------------------------------


@dataclass
class Rotated:
    rows: int = 0  # rows read
    values: int = 0  # values sealed again with the current key
    skipped: int = 0  # rows changed by someone else between the read and the write (run again)


def encrypted_models() -> list[tuple[type[models.Model], list[EncryptedTextField]]]:
    """Every installed model with encrypted columns, and those columns."""
    found = []
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if fields:
            found.append((model, fields))
    return found


def rotate_model(
    model: type[models.Model],
    fields: Sequence[EncryptedTextField],
    *,
    org_id: Any = None,
    batch: int = 1000,
    dry_run: bool = False,
    progress: Callable[[Rotated], None] | None = None,
) -> Rotated:
    """Seal every value of ``fields`` that names an older key again with the current key, ``batch``
    rows per transaction, through plain SQL (append-only tables included). A row is written only if
    it still holds what was read (a concurrent edit wins; its row counts as skipped)."""
    q = connection.ops.quote_name
    pk_field = model._meta.pk
    assert pk_field is not None  # a concrete model always has a primary key
    pk = q(str(pk_field.column))
    columns = [q(str(f.column)) for f in fields]
    table = q(model._meta.db_table)
    sets = ", ".join(f"{c} = %s" for c in columns)
    same = " AND ".join(f"{c} = %s" for c in columns)
    done = Rotated()
    last: Any = None
    while True:
        where, params = [], []
        if org_id is not None:
            where.append(f"{q('organization_id')} = %s")
            params.append(org_id.hex if not connection.features.has_native_uuid_field else org_id)
        if last is not None:
            where.append(f"{pk} > %s")
            params.append(last)
        sql = f"SELECT {pk}, {', '.join(columns)} FROM {table}"  # nosec B608 # noqa: S608 - names from model meta
        sql += (" WHERE " + " AND ".join(where) if where else "") + f" ORDER BY {pk} LIMIT {int(batch)}"
        with transaction.atomic(), connection.cursor() as cursor:
            # nosemgrep: sql-built-from-strings — quoted names from model meta, values bound
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            if not rows:
                return done
            for row_id, *old in rows:
                try:
                    new = [
                        crypto.reencrypt(v or "", context=f.context) for f, v in zip(fields, old, strict=True)
                    ]
                except crypto.DecryptionError as exc:
                    raise crypto.DecryptionError(f"{model._meta.label} row {row_id}: {exc}") from exc
                if any(v is not None for v in new):
                    done.values += sum(v is not None for v in new)
                    if not dry_run:
                        values = [n if n is not None else o for n, o in zip(new, old, strict=True)]
                        cursor.execute(
                            # nosemgrep: sql-built-from-strings — quoted names from model meta, values bound
                            f"UPDATE {table} SET {sets} WHERE {pk} = %s AND {same}",  # nosec B608 # noqa: S608 - names from model meta
                            [*values, row_id, *old],
                        )
                        done.skipped += cursor.rowcount == 0
        done.rows += len(rows)
        last = rows[-1][0]
        if progress is not None:
            progress(done)
