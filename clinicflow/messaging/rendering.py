"""Rendering a message from its kind, channel, language and context.

Built-in texts live in ``catalog.BUILTIN`` (en, ru, zh-hans for every kind); an organisation may
override one (``MessageTemplate``). Templates use ``{placeholder}`` substitution only — a manager
edits overrides, so no template language (no tags, no attribute access) is ever evaluated. Unknown
placeholders render as an empty string. The HTML part of an e-mail is the text, HTML-escaped,
inside ``templates/messaging/email.html``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

from clinicflow.messaging.catalog import BUILTIN, LANGUAGES
from clinicflow.messaging.models import Channel, MessageTemplate

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
SMS_MAX = 1000


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def language_for(preferred: str | None) -> str:
    code = (preferred or "").lower().replace("_", "-")
    if code in LANGUAGES:
        return code
    if code.startswith("zh"):
        return "zh-hans"
    base = code.split("-")[0]
    return base if base in LANGUAGES else "en"


def substitute(template: str, context: Mapping[str, Any]) -> str:
    def repl(match: re.Match[str]) -> str:
        value = context.get(match.group(1), "")
        return "" if value is None else str(value)

    return PLACEHOLDER.sub(repl, template)


def _source(*, org_id: object, kind: str, channel: str, language: str) -> tuple[str, str, str | None]:
    """(subject, body, action label) from the organisation's override or the built-in catalogue."""
    override = (
        MessageTemplate.objects.filter(organization_id=org_id, kind=kind, channel=channel, language=language)
        .only("subject", "body")
        .first()
    )
    builtin = BUILTIN[kind][language]
    action = builtin.get("action")
    if override is not None:
        return override.subject, override.body, action
    if channel == Channel.SMS:
        return "", builtin["sms"], None
    return builtin["subject"], builtin["body"], action


def render(*, org_id: object, kind: str, channel: str, language: str, context: Mapping[str, Any]) -> Rendered:
    subject_t, body_t, action = _source(org_id=org_id, kind=kind, channel=channel, language=language)
    subject = " ".join(substitute(subject_t, context).split())[:300]
    text = substitute(body_t, context).strip()
    if channel == Channel.SMS:
        return Rendered(subject="", text=text[:SMS_MAX], html="")
    url = str(context.get("manage_url") or context.get("survey_url") or "")
    with translation.override(language):
        html = render_to_string(
            "messaging/email.html",
            {
                "subject": subject,
                "paragraphs": [p for p in text.split("\n\n") if p.strip()],
                "action_url": url if url.startswith(("https://", "http://")) else "",
                "action_label": action or "",
                "clinic": context.get("clinic", ""),
                "language": language,
            },
        )
    return Rendered(subject=subject, text=text, html=html)
