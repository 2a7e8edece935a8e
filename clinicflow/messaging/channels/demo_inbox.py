"""The demo inbox: a channel for SMS and e-mail that delivers nowhere and keeps what it would have
sent, so that a demo visitor can finish a public booking without an SMTP server or SMS provider.

Chosen with ``MESSAGE_DELIVERY=demo_inbox`` (``make demo`` sets it); the production profile refuses
to start with it. The worker hands it the whole outbox message (``keep``) rather than calling
``send``: the inbox row is scoped to the message's organisation.
"""

from __future__ import annotations

from clinicflow.messaging.channels.base import EmailSender, OutgoingEmail, SmsProvider

DEMO_INBOX = "demo_inbox"


class DemoInbox:
    """Marker of the demo channels; the worker stores their messages with ``inbox.message_keep``."""

    name = DEMO_INBOX
    region = ""  # the data stays in this installation's database: the organisation's own region


class DemoInboxSms(DemoInbox, SmsProvider):
    name = DEMO_INBOX

    def send(self, to_e164: str, text: str, idempotency_key: str) -> str:
        raise NotImplementedError("the worker stores demo inbox messages with inbox.message_keep")


class DemoInboxEmail(DemoInbox, EmailSender):
    name = DEMO_INBOX

    def send(self, email: OutgoingEmail) -> str:
        raise NotImplementedError("the worker stores demo inbox messages with inbox.message_keep")
