"""The interface of a delivery channel and the two failure kinds the worker understands.

An SMS provider adapter implements ``SmsProvider``: ``send(to_e164, text, idempotency_key)``
returns the provider's message id, or raises ``TemporaryFailure`` (retry later with the same
idempotency key: timeouts, 5xx, rate limits) or ``PermanentFailure`` (never retry: bad number,
rejected, 4xx, data-residency refusal). Adapters must pass ``idempotency_key`` to the provider so
that a retry after an ambiguous failure cannot deliver twice, and must never put credentials in
exception messages (they are stored in ``Message.last_error``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field


class DeliveryFailure(Exception):
    """Base class; ``str(exc)`` is stored as the message's last error (no secrets)."""


class TemporaryFailure(DeliveryFailure):
    """The message may be retried later (with the same idempotency key)."""


class PermanentFailure(DeliveryFailure):
    """The message must not be retried."""


class SmsProvider(ABC):
    name: str = "sms"
    region: str = "OTHER"

    @abstractmethod
    def send(self, to_e164: str, text: str, idempotency_key: str) -> str:
        """Hand one SMS to the provider; return the provider's message id."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str
    idempotency_key: str
    language: str = "en"
    from_name: str = ""
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)


class EmailSender(ABC):
    name: str = "email"
    region: str = "OTHER"

    @abstractmethod
    def send(self, email: OutgoingEmail) -> str:
        """Hand one e-mail to the relay; return the Message-ID."""
