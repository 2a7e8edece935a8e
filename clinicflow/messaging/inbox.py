"""The demo inbox: storing what the demo channel "sent" (``message_keep``, called by the worker) and
reading it back for the inbox page (``demo_inbox_list``), with the links of the texts made clickable.

Texts are stored exactly as they would have gone out, codes included; that is acceptable only
because the demo channel is refused by the production profile."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from clinicflow.core.models import Branch, Organization
from clinicflow.messaging.models import DemoInboxMessage, Message

URL = re.compile(r"https?://[^\s<>\"']+")
TRAILING = ".,;:!?)]"


def _zone(org: Organization, branch_name: str) -> str:
    """The time zone of the message's branch (by the name in its context), else the organisation's
    first branch, else UTC."""
    branches = Branch.objects.for_org(org).order_by("name")
    row = branches.filter(name=branch_name).first() if branch_name else None
    row = row or branches.first()
    return row.timezone if row is not None else "UTC"


def message_keep(message: Message) -> str:
    """Store the final text of ``message`` (codes filled in) in its organisation's demo inbox and
    return the inbox row's id as the "provider message id"."""
    org = message.organization
    row = DemoInboxMessage.objects.create(
        organization=org,
        message=message,
        channel=message.channel,
        kind=message.kind,
        to=message.to,
        subject=message.subject,
        body_text=message.body_text,
        zone=_zone(org, str(message.context.get("branch") or "")),
    )
    return f"demo-inbox:{row.pk}"


def _public_prefix() -> str:
    return str(settings.CLINICFLOW.get("PUBLIC_URL", "")).rstrip("/")


def linkify(text: str) -> SafeString:
    """``text`` escaped, with the http(s) links to this installation (``CLINICFLOW_PUBLIC_URL``)
    made clickable, line breaks kept; any other URL stays plain text."""
    prefix = _public_prefix()
    out: list[SafeString] = []
    pos = 0
    for match in URL.finditer(text):
        url = match.group(0).rstrip(TRAILING)
        end = match.start() + len(url)
        out.append(_text(text[pos : match.start()]))
        if prefix and (url == prefix or url.startswith(prefix + "/") or url.startswith(prefix + "?")):
            out.append(format_html('<a href="{}" rel="noopener noreferrer">{}</a>', url, url))
        else:
            out.append(_text(url))
        pos = end
    out.append(_text(text[pos:]))
    return format_html_join("", "{}", ((piece,) for piece in out))


def _text(segment: str) -> SafeString:
    """``segment`` escaped, its line breaks as ``<br>``."""
    return format_html_join(SafeString("<br>"), "{}", ((line,) for line in segment.split("\n")))


@dataclass(frozen=True)
class InboxRow:
    channel: str
    kind: str
    to: str
    subject: str
    html: SafeString
    local_time: datetime
    zone: str


def demo_inbox_rows(org: Organization) -> QuerySet[DemoInboxMessage]:
    """The organisation's demo inbox, newest first."""
    return DemoInboxMessage.objects.for_org(org).order_by("-created_at", "-id")


def inbox_row(row: DemoInboxMessage) -> InboxRow:
    try:
        tz = zoneinfo.ZoneInfo(row.zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("UTC")
    return InboxRow(
        channel=row.get_channel_display(),
        kind=row.get_kind_display(),
        to=row.to,
        subject=row.subject,
        html=linkify(row.body_text),
        local_time=row.created_at.astimezone(tz).replace(tzinfo=None),  # shown as is, not in the viewer zone
        zone=row.zone,
    )
