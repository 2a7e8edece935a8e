"""The outbox's delivery protocol: the state changes the worker (``tasks.Worker``) makes, each one
conditional UPDATE, so that a message is sent at most once even with several workers and crashes:

1. **Claim** (short transaction): due ``queued`` rows become ``sending`` with a lease
   (``claimed_by``, ``claimed_until``). PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` then an
   UPDATE of the locked rows; SQLite (no row locks): one conditional
   ``UPDATE ... WHERE id = ? AND status = 'queued'`` per candidate, keeping the rows it changed.
2. **Handover** (one conditional UPDATE, committed *before* the provider is called):
   ``handed_over_at = now, attempts += 1 WHERE status = 'sending' AND claimed_by = me AND
   handed_over_at IS NULL``. If it changes no row, another worker took the message over: skip.
3. **Send** outside any transaction, with the message id as the provider's idempotency key
   (SMS ``Idempotency-Key``; SMTP ``Message-ID``).
4. **Record** the result (conditional on ``claimed_by = me``): ``sent`` with the provider id;
   ``queued`` again with exponential back-off after a temporary failure; ``failed`` after a
   permanent failure or the last attempt.

Expired leases are reaped before each claim: a message never handed over goes back to
``queued`` (nothing was sent, so nothing is lost); a message handed over but never confirmed
becomes ``unknown`` — it may or may not have reached the provider, and rather than risk sending
it twice a human checks it (the outbox page lists them). A late confirmation from the original
worker still turns ``unknown`` into ``sent``.

Tenancy: one worker serves every organisation, so the reaping and the claim are the two reads across
organisations (due rows, by the partial indexes); every step on a claimed message is scoped to its
organisation (``Message.objects.for_org(message.organization)``) and to the claiming worker.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from clinicflow.core.models import Organization, Region
from clinicflow.messaging.models import Message, Status
from clinicflow.messaging.selectors import cross_border_allowed
from clinicflow.patients.models import ConsentPurpose
from clinicflow.patients.selectors import has_consent

RESIDENCY_REGIONS = frozenset({Region.RU, Region.CN})
BACKOFF_BASE_SECONDS = 60
BACKOFF_MAX_SECONDS = 6 * 3600


def backoff(attempts: int, base: int = BACKOFF_BASE_SECONDS) -> dt.timedelta:
    """Delay before retry number ``attempts`` (1, 2, ...): base, 2×base, 4×base, ... capped at 6 h."""
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def residency_refusal(*, org: Organization, patient_id: uuid.UUID | None, provider_region: str) -> str | None:
    """Why sending this patient's contact to a provider in ``provider_region`` is refused, or None.

    A RU or CN organisation's patients' data may go to a provider in another region only when the
    organisation allows cross-border transfer AND the patient has the cross-border consent. It fails
    closed: a provider whose region is blank or not a known ``Region`` counts as foreign. The one rule
    for every channel (SMS and e-mail)."""
    home = org.data_region
    region = provider_region.strip().upper()
    if home not in RESIDENCY_REGIONS or region == home:
        return None
    if (
        patient_id is not None
        and cross_border_allowed(org=org)
        and has_consent(org=org, patient_id=patient_id, purpose=ConsentPurpose.CROSS_BORDER)
    ):
        return None
    return (
        f"data residency: a {home} organisation's patient data may not be sent to a provider in "
        f"{region if region in Region.values else 'an unknown region'} without the cross-border "
        "setting and the patient's consent"
    )


def leases_reap(*, now: dt.datetime) -> tuple[int, int]:
    """Expired leases: (messages requeued because never handed over, messages now ``unknown``)."""
    expired = Message.objects.filter(status=Status.SENDING, claimed_until__lt=now)
    requeued = expired.filter(handed_over_at__isnull=True).update(
        status=Status.QUEUED, claimed_by="", claimed_until=None, updated_at=now
    )
    unknown = expired.filter(handed_over_at__isnull=False).update(
        status=Status.UNKNOWN,
        last_error="the worker stopped after handing the message to the provider; check by hand",
        updated_at=now,
    )
    return requeued, unknown


def messages_claim(*, worker_id: str, batch: int, lease: dt.timedelta) -> list[uuid.UUID]:
    """Claim up to ``batch`` due messages of any organisation for ``worker_id``; returns their ids."""
    now = timezone.now()
    claim = {
        "status": Status.SENDING,
        "claimed_by": worker_id,
        "claimed_until": now + lease,
        "updated_at": now,
    }
    due = Message.objects.filter(status=Status.QUEUED, send_after__lte=now).order_by("send_after", "id")
    if connection.vendor == "postgresql":
        with transaction.atomic():
            ids = list(due.select_for_update(skip_locked=True).values_list("pk", flat=True)[:batch])
            if ids:
                Message.objects.filter(pk__in=ids, status=Status.QUEUED).update(**claim)
        return ids
    return [
        pk
        for pk in due.values_list("pk", flat=True)[:batch]
        if Message.objects.filter(pk=pk, status=Status.QUEUED).update(**claim)
    ]


def message_claimed_get(*, message_id: uuid.UUID, worker_id: str) -> Message | None:
    """The message this worker claimed (with its organisation and patient), or None if it lost it."""
    return (
        Message.objects.select_related("organization", "patient")
        .filter(pk=message_id, status=Status.SENDING, claimed_by=worker_id)
        .first()
    )


def _mine(message: Message, worker_id: str) -> QuerySet[Message]:
    return Message.objects.for_org(message.organization).filter(pk=message.pk, claimed_by=worker_id)


def message_hand_over(*, message: Message, worker_id: str, lease: dt.timedelta, provider: str) -> bool:
    """Record (before the provider is called) that this worker hands the message over; False when
    another worker took it over."""
    now = timezone.now()
    handed = (
        _mine(message, worker_id)
        .filter(status=Status.SENDING, handed_over_at__isnull=True)
        .update(
            handed_over_at=now,
            attempts=F("attempts") + 1,
            claimed_until=now + lease,
            provider=provider,
            updated_at=now,
        )
    )
    return bool(handed)


def message_finish(*, message: Message, worker_id: str, status: str, error: str) -> bool:
    """End the delivery of a message this worker holds with ``status`` (failed, cancelled, unknown)."""
    rows = (
        _mine(message, worker_id)
        .filter(status__in=[Status.SENDING, Status.UNKNOWN])
        .update(status=status, last_error=error[:500], claimed_until=None, updated_at=timezone.now())
    )
    return bool(rows)


def message_mark_sent(*, message: Message, worker_id: str, provider_message_id: str) -> bool:
    now = timezone.now()
    rows = (
        _mine(message, worker_id)
        .filter(status__in=[Status.SENDING, Status.UNKNOWN])
        .update(
            status=Status.SENT,
            provider_message_id=provider_message_id[:200],
            sent_at=now,
            last_error="",
            claimed_until=None,
            updated_at=now,
        )
    )
    return bool(rows)


def message_retry_later(*, message: Message, worker_id: str, delay: dt.timedelta, error: str) -> bool:
    """Queue the message again after a temporary failure, releasing this worker's claim."""
    now = timezone.now()
    rows = (
        _mine(message, worker_id)
        .filter(status=Status.SENDING)
        .update(
            status=Status.QUEUED,
            send_after=now + delay,
            handed_over_at=None,
            claimed_by="",
            claimed_until=None,
            last_error=error[:500],
            updated_at=now,
        )
    )
    return bool(rows)
