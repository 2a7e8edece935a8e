"""Building the configured channels from Django settings or the environment.

SMS: ``SMS_PROVIDER_URL``, ``SMS_PROVIDER_TOKEN``, ``SMS_PROVIDER_REGION`` (RU, CN, EU, OTHER).
E-mail: Django's ``EMAIL_*`` settings and ``EMAIL_REGION``.
Both: ``MESSAGE_DELIVERY=demo_inbox`` sends SMS and e-mail to the demo inbox instead (demo only;
the production profile refuses it).
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from clinicflow.messaging.channels.base import EmailSender, SmsProvider
from clinicflow.messaging.channels.demo_inbox import DEMO_INBOX, DemoInboxEmail, DemoInboxSms
from clinicflow.messaging.channels.http_sms import HttpJsonSmsProvider
from clinicflow.messaging.channels.smtp import SmtpEmailSender


def setting(name: str, default: Any = "") -> Any:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, default)
    return value


def demo_inbox_chosen() -> bool:
    """``MESSAGE_DELIVERY=demo_inbox``; never under production settings (refused there at start too)."""
    chosen = str(setting("MESSAGE_DELIVERY", "")).strip().lower() == DEMO_INBOX
    if chosen and getattr(settings, "PRODUCTION", False):
        raise ImproperlyConfigured(
            "MESSAGE_DELIVERY=demo_inbox is the demo's channel; unset it in production."
        )
    return chosen


def sms_provider() -> SmsProvider | None:
    if demo_inbox_chosen():
        return DemoInboxSms()
    url = str(setting("SMS_PROVIDER_URL", "")).strip()
    if not url:
        return None
    return HttpJsonSmsProvider(
        url=url,
        token=str(setting("SMS_PROVIDER_TOKEN", "")),
        region=str(setting("SMS_PROVIDER_REGION", "OTHER")),
        timeout=float(setting("SMS_PROVIDER_TIMEOUT", "15")),
    )


def email_sender() -> EmailSender:
    if demo_inbox_chosen():
        return DemoInboxEmail()
    return SmtpEmailSender(
        host=settings.EMAIL_HOST,
        port=int(settings.EMAIL_PORT),
        user=settings.EMAIL_HOST_USER,
        password=settings.EMAIL_HOST_PASSWORD,
        use_tls=bool(settings.EMAIL_USE_TLS),
        from_email=settings.DEFAULT_FROM_EMAIL,
        timeout=float(setting("EMAIL_TIMEOUT", "30") or 30),
        region=str(setting("EMAIL_REGION", "") or ""),
    )
