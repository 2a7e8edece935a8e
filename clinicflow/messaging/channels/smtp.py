"""E-mail over SMTP with Python's smtplib (settings EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER,
EMAIL_HOST_PASSWORD, EMAIL_USE_TLS, DEFAULT_FROM_EMAIL).

The message is multipart: text and HTML alternatives plus attachments. Its ``Message-ID`` is
``<message id@clinicflow>``: the same outbox message always carries the same Message-ID, so a
resend after an ambiguous failure can be recognised as a duplicate downstream.
"""

from __future__ import annotations

import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from clinicflow.messaging.channels.base import EmailSender, OutgoingEmail, PermanentFailure, TemporaryFailure


def message_id_for(idempotency_key: str) -> str:
    return f"<{idempotency_key}@clinicflow>"


class SmtpEmailSender(EmailSender):
    name = "smtp"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        user: str = "",
        password: str = "",
        use_tls: bool = False,
        from_email: str = "clinicflow@localhost",
        timeout: float = 30.0,
        region: str = "OTHER",
    ) -> None:
        self.host, self.port = host, port
        self.user = user
        self._password = password
        self.use_tls = use_tls
        self.from_email = from_email
        self.timeout = timeout
        self.region = region.strip().upper()  # blank: unknown, refused by a RU or CN organisation

    def build(self, email: OutgoingEmail) -> EmailMessage:
        msg = EmailMessage()
        name, addr = parseaddr(self.from_email)
        msg["From"] = str(Address(display_name=email.from_name or name, addr_spec=addr or self.from_email))
        msg["To"] = email.to
        msg["Subject"] = email.subject
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = message_id_for(email.idempotency_key)
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(email.text)
        if email.html:
            msg.add_alternative(email.html, subtype="html")
        for att in email.attachments:
            maintype, _, subtype = att.content_type.partition("/")
            msg.add_attachment(
                att.content,
                maintype=maintype or "application",
                subtype=subtype or "octet-stream",
                filename=att.filename,
            )
        msg["Content-Language"] = email.language  # after the body: set_content clears Content-* headers
        return msg

    def send(self, email: OutgoingEmail) -> str:
        msg = self.build(email)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.use_tls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self._password)
                refused = smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(400 <= c < 500 for c in codes):
                raise TemporaryFailure(f"SMTP recipient deferred: {codes[0]}") from None
            raise PermanentFailure(f"SMTP recipient refused: {codes[0] if codes else '?'}") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise TemporaryFailure(f"SMTP authentication failed: {exc.smtp_code}") from None
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(f"SMTP refused the message: {exc.smtp_code}") from None
            raise TemporaryFailure(f"SMTP temporary error: {exc.smtp_code}") from None
        except (smtplib.SMTPException, TimeoutError, ConnectionError, OSError) as exc:
            raise TemporaryFailure(f"SMTP server unreachable: {type(exc).__name__}") from None
        if refused:
            raise PermanentFailure("SMTP recipient refused")
        return str(msg["Message-ID"])
