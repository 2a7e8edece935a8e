"""The outbox worker (``clinicflow worker``): claim due messages, hand each to its channel, record the
result. Several workers may run at once; the protocol that keeps every message sent at most once is
in ``delivery``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields

from django.utils import timezone

from clinicflow.core.onetime import fill_code
from clinicflow.messaging import delivery, inbox
from clinicflow.messaging.channels import registry
from clinicflow.messaging.channels.base import (
    Attachment,
    EmailSender,
    OutgoingEmail,
    PermanentFailure,
    SmsProvider,
    TemporaryFailure,
)
from clinicflow.messaging.channels.demo_inbox import DemoInbox
from clinicflow.messaging.delivery import BACKOFF_BASE_SECONDS
from clinicflow.messaging.models import Channel, Message, Purpose, Status
from clinicflow.messaging.selectors import marketing_allowed, message_attachments

log = logging.getLogger("clinicflow.messaging")


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

    def count(self, name: str, done: bool = True) -> None:
        setattr(self, name, getattr(self, name) + int(done))

    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))

    def __str__(self) -> str:
        return " ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))


def fill_codes(message: Message) -> None:
    """Put a code message's one-time code into its texts, in memory only (the row keeps the mark)."""
    ref = str(message.context.get("code_ref") or "")
    if ref:
        message.subject = fill_code(message.subject, ref)
        message.body_text = fill_code(message.body_text, ref)
        message.body_html = fill_code(message.body_html, ref)


def new_worker_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


class Refused(Exception):
    """A message that must not go out now: ``status`` and the reason to record."""

    def __init__(self, status: str, reason: str, counter: str) -> None:
        super().__init__(reason)
        self.status, self.reason, self.counter = status, reason, counter


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

    def run_forever(
        self, *, interval: float, stop: Callable[[], bool], report: Callable[[Summary], None]
    ) -> Summary:
        """Poll the outbox every ``interval`` seconds until ``stop()``; ``report`` gets each round that
        did something. Returns the total."""
        total = Summary()
        while not stop():
            summary = self.run_once()
            total.add(summary)
            if not summary.is_empty():
                report(summary)
            deadline = time.monotonic() + interval
            while not stop() and time.monotonic() < deadline:
                time.sleep(min(0.5, max(deadline - time.monotonic(), 0)))
        return total

    # --- leases ----------------------------------------------------------------------------------
    def reap(self, summary: Summary) -> None:
        requeued, unknown = delivery.leases_reap(now=timezone.now())
        summary.requeued += requeued
        summary.unknown += unknown

    def claim(self) -> list[uuid.UUID]:
        return delivery.messages_claim(worker_id=self.worker_id, batch=self.batch, lease=self.lease)

    # --- one message -----------------------------------------------------------------------------
    def deliver(self, pk: uuid.UUID, summary: Summary) -> None:
        message = delivery.message_claimed_get(message_id=pk, worker_id=self.worker_id)
        if message is None:
            summary.skipped += 1
            return
        fill_codes(message)
        try:
            self._check_deadline(message)
            self._check_consent(message)
            provider, region = self._provider(message)
            self._check_residency(message, region)
        except Refused as refused:
            self._finish(message, refused.status, refused.reason, summary, refused.counter)
            return
        email = self._email(message) if message.channel == Channel.EMAIL else None
        # handover: recorded (and committed) before the provider is called
        if not delivery.message_hand_over(
            message=message, worker_id=self.worker_id, lease=self.lease, provider=provider
        ):
            summary.skipped += 1
            return
        self._send(message, email, summary)

    def _provider(self, message: Message) -> tuple[str, str]:
        """The channel's provider name and data region (the demo inbox keeps the data at home)."""
        channel = self.email if message.channel != Channel.SMS else self.sms
        if channel is None:
            raise Refused(Status.FAILED, "no SMS provider configured", "failed")
        if isinstance(channel, DemoInbox):
            return channel.name, message.organization.data_region
        return channel.name, channel.region

    @staticmethod
    def _check_deadline(message: Message) -> None:
        """A message whose purpose has passed (a code after its expiry, a reminder or confirmation
        after the appointment's start) is cancelled, never sent late."""
        if message.not_after is not None and timezone.now() >= message.not_after:
            raise Refused(
                Status.CANCELLED, f"expired: not sent after {message.not_after.isoformat()}", "cancelled"
            )

    @staticmethod
    def _check_consent(message: Message) -> None:
        """A marketing message still needs the patient's consent when it goes out."""
        if message.purpose == Purpose.MARKETING and (
            message.patient_id is None
            or not marketing_allowed(
                org=message.organization, patient_id=message.patient_id, channel=message.channel
            )
        ):
            raise Refused(Status.CANCELLED, "no marketing consent at send time", "cancelled")

    @staticmethod
    def _check_residency(message: Message, region: str) -> None:
        """Data residency of the provider's region, checked when the message goes out, for every
        channel: an unknown region (``EMAIL_REGION`` unset) is refused like a foreign one."""
        refusal = delivery.residency_refusal(
            org=message.organization, patient_id=message.patient_id, provider_region=region
        )
        if refusal:
            raise Refused(Status.FAILED, refusal, "failed")

    def _email(self, message: Message) -> OutgoingEmail:
        org = message.organization
        return OutgoingEmail(
            to=message.to,
            subject=message.subject,
            text=message.body_text,
            html=message.body_html,
            idempotency_key=message.idempotency_key,
            language=message.language,
            from_name=org.name,
            attachments=tuple(
                Attachment(a.filename, a.content_type, bytes(a.content))
                for a in message_attachments(org=org, message_id=message.pk)
            ),
        )

    def _send(self, message: Message, email: OutgoingEmail | None, summary: Summary) -> None:
        attempts = message.attempts + 1
        try:
            if isinstance(self.email if email is not None else self.sms, DemoInbox):
                provider_id = inbox.message_keep(message)
            elif email is not None:
                provider_id = self.email.send(email)
            else:
                assert self.sms is not None  # checked by _provider before the handover
                provider_id = self.sms.send(message.to, message.body_text, message.idempotency_key)
        except TemporaryFailure as exc:
            self._temporary(message, attempts, str(exc), summary)
            return
        except PermanentFailure as exc:
            self._finish(message, Status.FAILED, str(exc), summary, "failed")
            return
        except Exception as exc:
            # an unexpected error after handover: it may have been sent, so do not retry blindly
            log.exception("messaging: unexpected error delivering %s", message.pk)
            self._finish(
                message, Status.UNKNOWN, f"unexpected error: {type(exc).__name__}", summary, "unknown"
            )
            return
        summary.count(
            "sent",
            delivery.message_mark_sent(
                message=message, worker_id=self.worker_id, provider_message_id=str(provider_id)
            ),
        )

    def _finish(self, message: Message, status: str, error: str, summary: Summary, counter: str) -> None:
        done = delivery.message_finish(message=message, worker_id=self.worker_id, status=status, error=error)
        summary.count(counter, done)

    def _temporary(self, message: Message, attempts: int, error: str, summary: Summary) -> None:
        if attempts >= self.max_attempts:
            self._finish(
                message, Status.FAILED, f"{error} (gave up after {attempts} attempts)", summary, "failed"
            )
            return
        retried = delivery.message_retry_later(
            message=message,
            worker_id=self.worker_id,
            delay=delivery.backoff(attempts, self.backoff_base),
            error=error,
        )
        summary.count("retried", retried)
