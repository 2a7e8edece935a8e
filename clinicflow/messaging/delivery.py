"""The outbox worker's engine: claim due messages, hand them to a channel, record the result.

At most once, even with several workers and crashes:

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
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
from dataclasses import dataclass, fields
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from clinicflow.core.models import Organization, Region
from clinicflow.messaging.channels import registry
from clinicflow.messaging.channels.base import (
    Attachment,
    EmailSender,
    OutgoingEmail,
    PermanentFailure,
    SmsProvider,
    TemporaryFailure,
)
from clinicflow.messaging.models import (
    Channel,
    Message,
    MessageAttachment,
    MessagingSettings,
    Purpose,
    Status,
)
from clinicflow.messaging.services import marketing_allowed
from clinicflow.patients.models import ConsentPurpose
from clinicflow.patients.selectors import has_consent

log = logging.getLogger("clinicflow.messaging")

RESIDENCY_REGIONS = frozenset({Region.RU, Region.CN})
BACKOFF_BASE_SECONDS = 60
BACKOFF_MAX_SECONDS = 6 * 3600


def backoff(attempts: int, base: int = BACKOFF_BASE_SECONDS) -> dt.timedelta:
    """Delay before retry number ``attempts`` (1, 2, ...): base, 2×base, 4×base, ... capped at 6 h."""
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def residency_refusal(*, org: Organization, patient_id: Any, provider_region: str) -> str | None:
    """Why sending this patient's contact to a provider in ``provider_region`` is refused, or None.

    A RU or CN organisation's patients' data may go to a provider in another region only when the
    organisation allows cross-border transfer AND the patient has the cross-border consent."""
    home = org.data_region
    if home not in RESIDENCY_REGIONS or provider_region.upper() == home:
        return None
    allowed = MessagingSettings.objects.filter(organization=org, allow_cross_border=True).exists()
    if allowed and has_consent(org=org, patient_id=patient_id, purpose=ConsentPurpose.CROSS_BORDER):
        return None
    return (
        f"data residency: a {home} organisation's patient data may not be sent to a provider in "
        f"{provider_region.upper()} without the cross-border setting and the patient's consent"
    )


@dataclass
class Summary:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    cancelled: int = 0
    unknown: int = 0
    requeued: int = 0
    skipped: int = 0

    def add(self, other: Summary) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def __str__(self) -> str:
        return " ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))


def new_worker_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


class Worker:
    def __init__(
        self,
        *,
        worker_id: str | None = None,
        batch: int = 50,
        max_attempts: int = 5,
        lease_seconds: int = 300,
        backoff_base: int = BACKOFF_BASE_SECONDS,
        sms: SmsProvider | None = None,
        email: EmailSender | None = None,
    ) -> None:
        if batch < 1 or max_attempts < 1 or lease_seconds < 1:
            raise ValueError("batch, max_attempts and lease_seconds must be positive")
        self.worker_id = (worker_id or new_worker_id())[:100]
        self.batch = batch
        self.max_attempts = max_attempts
        self.lease = dt.timedelta(seconds=lease_seconds)
        self.backoff_base = backoff_base
        self.sms = sms if sms is not None else registry.sms_provider()
        self.email = email if email is not None else registry.email_sender()

    # --- the loop --------------------------------------------------------------------------------
    def run_once(self, *, max_rounds: int = 1000) -> Summary:
        """Process everything due now (claiming in batches), then return what happened."""
        total = Summary()
        self.reap(total)
        for _ in range(max_rounds):
            ids = self.claim()
            if not ids:
                break
            for pk in ids:
                self.deliver(pk, total)
        return total

    # --- leases ----------------------------------------------------------------------------------
    def reap(self, summary: Summary) -> None:
        now = timezone.now()
        expired = Message.objects.filter(status=Status.SENDING, claimed_until__lt=now)
        summary.requeued += expired.filter(handed_over_at__isnull=True).update(
            status=Status.QUEUED, claimed_by="", claimed_until=None, updated_at=now
        )
        summary.unknown += expired.filter(handed_over_at__isnull=False).update(
            status=Status.UNKNOWN,
            last_error="the worker stopped after handing the message to the provider; check by hand",
            updated_at=now,
        )

    def claim(self) -> list[Any]:
        now = timezone.now()
        claim = {
            "status": Status.SENDING,
            "claimed_by": self.worker_id,
            "claimed_until": now + self.lease,
            "updated_at": now,
        }
        due = Message.objects.filter(status=Status.QUEUED, send_after__lte=now).order_by("send_after", "id")
        if connection.vendor == "postgresql":
            with transaction.atomic():
                ids = list(due.select_for_update(skip_locked=True).values_list("pk", flat=True)[: self.batch])
                if ids:
                    Message.objects.filter(pk__in=ids, status=Status.QUEUED).update(**claim)
            return ids
        claimed = []
        for pk in due.values_list("pk", flat=True)[: self.batch]:
            if Message.objects.filter(pk=pk, status=Status.QUEUED).update(**claim):
                claimed.append(pk)
        return claimed

    # --- one message -----------------------------------------------------------------------------
    def _mine(self, pk: Any) -> Any:
        return Message.objects.filter(pk=pk, claimed_by=self.worker_id)

    def _finish(self, pk: Any, status: str, error: str, summary: Summary, field: str) -> None:
        now = timezone.now()
        rows = (
            self._mine(pk)
            .filter(status__in=[Status.SENDING, Status.UNKNOWN])
            .update(status=status, last_error=error[:500], claimed_until=None, updated_at=now)
        )
        if rows:
            setattr(summary, field, getattr(summary, field) + 1)

    def deliver(self, pk: Any, summary: Summary) -> None:
        message = (
            Message.objects.select_related("organization", "patient")
            .filter(pk=pk, status=Status.SENDING, claimed_by=self.worker_id)
            .first()
        )
        if message is None:
            summary.skipped += 1
            return
        org = message.organization
        # checks at send time
        if message.purpose == Purpose.MARKETING and not marketing_allowed(
            org=org, patient_id=message.patient_id, channel=message.channel
        ):
            self._finish(pk, Status.CANCELLED, "no marketing consent at send time", summary, "cancelled")
            return
        channel_name = ""
        if message.channel == Channel.SMS:
            if self.sms is None:
                self._finish(pk, Status.FAILED, "no SMS provider configured", summary, "failed")
                return
            channel_name = self.sms.name
            region = self.sms.region
        else:
            channel_name = self.email.name
            region = str(registry.setting("EMAIL_REGION", "") or "")
        if region:
            refusal = residency_refusal(org=org, patient_id=message.patient_id, provider_region=region)
            if refusal:
                self._finish(pk, Status.FAILED, refusal, summary, "failed")
                return
        email: OutgoingEmail | None = None
        if message.channel == Channel.EMAIL:
            email = OutgoingEmail(
                to=message.to,
                subject=message.subject,
                text=message.body_text,
                html=message.body_html,
                idempotency_key=message.idempotency_key,
                language=message.language,
                from_name=org.name,
                attachments=tuple(
                    Attachment(a.filename, a.content_type, bytes(a.content))
                    for a in MessageAttachment.objects.filter(organization=org, message=message).order_by(
                        "id"
                    )
                ),
            )
        # handover: recorded (and committed) before the provider is called
        now = timezone.now()
        handed = (
            self._mine(pk)
            .filter(status=Status.SENDING, handed_over_at__isnull=True)
            .update(
                handed_over_at=now,
                attempts=F("attempts") + 1,
                claimed_until=now + self.lease,
                provider=channel_name,
                updated_at=now,
            )
        )
        if not handed:
            summary.skipped += 1
            return
        attempts = message.attempts + 1
        try:
            if email is not None:
                provider_id = self.email.send(email)
            else:
                assert self.sms is not None
                provider_id = self.sms.send(message.to, message.body_text, message.idempotency_key)
        except TemporaryFailure as exc:
            self._temporary(pk, attempts, str(exc), summary)
            return
        except PermanentFailure as exc:
            self._finish(pk, Status.FAILED, str(exc), summary, "failed")
            return
        except Exception as exc:
            # an unexpected error after handover: it may have been sent, so do not retry blindly
            log.exception("messaging: unexpected error delivering %s", pk)
            self._finish(pk, Status.UNKNOWN, f"unexpected error: {type(exc).__name__}", summary, "unknown")
            return
        now = timezone.now()
        rows = (
            self._mine(pk)
            .filter(status__in=[Status.SENDING, Status.UNKNOWN])
            .update(
                status=Status.SENT,
                provider_message_id=str(provider_id)[:200],
                sent_at=now,
                last_error="",
                claimed_until=None,
                updated_at=now,
            )
        )
        summary.sent += rows

    def _temporary(self, pk: Any, attempts: int, error: str, summary: Summary) -> None:
        if attempts >= self.max_attempts:
            self._finish(pk, Status.FAILED, f"{error} (gave up after {attempts} attempts)", summary, "failed")
            return
        now = timezone.now()
        rows = (
            self._mine(pk)
            .filter(status=Status.SENDING)
            .update(
                status=Status.QUEUED,
                send_after=now + backoff(attempts, self.backoff_base),
                handed_over_at=None,
                claimed_by="",
                claimed_until=None,
                last_error=error[:500],
                updated_at=now,
            )
        )
        summary.retried += rows
