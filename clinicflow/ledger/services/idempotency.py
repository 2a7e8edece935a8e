"""Idempotent money-moving calls (Stripe's rules), for the API.

``idempotent(org=..., key=..., request_fingerprint=..., run=...)`` runs ``run`` at most once per
(organisation, key):

- the key row is inserted *first*, in the same database transaction as the work; a second request
  with the key waits on the unique index until the first commits, then finds its row;
- the same key with the same request (method, path, body) replays the first answer, status and body,
  whether it was a success or a refusal (4xx);
- the same key with another request is refused: 409 ``idempotency_key_reused``, nothing runs;
- a refusal (``DomainError``) rolls back everything the call wrote except the key row and its answer.

Keys are kept at least ``KEEP`` (24 h); ``idempotency_purge`` deletes older ones."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from clinicflow.core.errors import Conflict, DomainError, ValidationFailed
from clinicflow.core.models import Organization
from clinicflow.ledger.models import KEEP, IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY = 255
PURGE_BATCH = 1000


def clean_key(value: object) -> str:
    key = str(value or "").strip()
    if not key:
        raise ValidationFailed.field(HEADER, "required: send a unique key with every money-moving call")
    if len(key) > MAX_KEY or not key.isascii() or not key.isprintable():
        raise ValidationFailed.field(HEADER, f"at most {MAX_KEY} printable ASCII characters")
    return key


def fingerprint(method: str, path: str, payload: object) -> str:
    canonical = json.dumps(
        [method.upper(), path, payload], sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent(
    *, org: Organization, key: str, request_fingerprint: str, run: Callable[[], tuple[int, dict[str, Any]]]
) -> tuple[int, dict[str, Any]]:
    """``(status, body)`` of the call: run now, or replayed (see the module)."""
    with transaction.atomic():
        row = _claim(org, key, request_fingerprint)
        if row is None:
            row = IdempotencyKey.objects.for_org(org).select_for_update().get(key=key)
            if row.fingerprint != request_fingerprint:
                raise Conflict(
                    "this Idempotency-Key was used for another request",
                    fields={HEADER: ["used for another request"]},
                    code="idempotency_key_reused",
                ) from None
            if row.status is None:  # cannot happen after the first commit; kept as a guard
                raise Conflict(
                    "a request with this key is still running", code="idempotency_in_progress"
                ) from None
            return int(row.status), dict(row.body or {})
        try:
            with transaction.atomic():
                status, body = run()
        except DomainError as exc:
            if exc.status >= 500:
                raise
            status, body = exc.status, exc.as_dict()
        body = json.loads(json.dumps(body, default=str))
        IdempotencyKey.objects.filter(pk=row.pk).update(status=status, body=body)
    return status, body


_CLAIM = """
INSERT INTO {table} (id, organization_id, key, fingerprint, status, body, created_at)
VALUES (%s, %s, %s, %s, NULL, NULL, %s)
ON CONFLICT ON CONSTRAINT ledger_idem_org_key_uniq DO NOTHING
RETURNING id
"""


def _claim(org: Organization, key: str, request_fingerprint: str) -> IdempotencyKey | None:
    """The key's new row, or None when the organisation already has the key (committed: an insert
    racing a running first request waits on the unique index until that one commits or rolls back).
    On PostgreSQL one ``INSERT ... ON CONFLICT DO NOTHING`` (no savepoint around a failing insert)."""
    row = IdempotencyKey(organization=org, key=key, fingerprint=request_fingerprint)
    if connection.vendor != "postgresql":
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            return None
        return row
    with connection.cursor() as cur:
        cur.execute(
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            _CLAIM.format(table=IdempotencyKey._meta.db_table),
            [row.pk, org.pk, key, request_fingerprint, row.created_at],
        )
        inserted = cur.fetchone() is not None
    if not inserted:
        return None
    row._state.adding = False
    return row


def idempotency_purge(*, now: Any = None, batch: int = PURGE_BATCH) -> int:
    """Delete keys older than ``KEEP``, at most ``batch`` a call; the number deleted."""
    cutoff = (now or timezone.now()) - KEEP
    ids = list(IdempotencyKey.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:batch])
    if not ids:
        return 0
    deleted, _ = IdempotencyKey.objects.filter(pk__in=ids).delete()
    return deleted
