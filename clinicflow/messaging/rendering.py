"""Rendering a message from its kind, channel, language and context (pure: no database).

Built-in texts live in ``catalog.BUILTIN`` (en, ru, zh-hans for every kind); an organisation may
override one (``MessageTemplate``, read by ``selectors.template_overrides``). Templates use
``{placeholder}`` substitution only — a manager edits overrides, so no template language (no tags,
no attribute access) is ever evaluated. Unknown placeholders render as an empty string. The HTML
part of an e-mail is the text, HTML-escaped, inside ``templates/messaging/email.html``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.template.loader import render_to_string
from django.utils import translation

from clinicflow.core.formatting import fmt_date_full, fmt_datetime_full
from clinicflow.messaging.catalog import BUILTIN, LANGUAGES
from clinicflow.messaging.models import Channel

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
SMS_MAX = 1000
SUBJECT_MAX = 300


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class TemplateSource(NamedTuple):
    """The texts a message is rendered from, and the label of the e-mail's button (``None`` for SMS)."""

    subject: str
    body: str
    action: str | None


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


def template_source(
    *, kind: str, channel: str, language: str, override: tuple[str, str] | None = None
) -> TemplateSource:
    """The organisation's override ``(subject, body)`` when it has one, else the built-in text."""
    builtin = BUILTIN[kind][language]
    action = builtin.get("action")
    if override is not None:
        return TemplateSource(override[0], override[1], action)
    if channel == Channel.SMS:
        return TemplateSource("", builtin["sms"], None)
    return TemplateSource(builtin["subject"], builtin["body"], action)


def localized(context: Mapping[str, Any], language: str) -> Mapping[str, Any]:
    """The context with the appointment's time written for the message's language ("5 декабря, 14:30",
    "12月5日 14:30") in the branch's zone, when the context carries ``start_utc`` and ``timezone``."""
    start, zone = context.get("start_utc"), context.get("timezone")
    if not start or not zone:
        return context
    try:
        at = dt.datetime.fromisoformat(str(start))
        tz = ZoneInfo(str(zone))
    except (ValueError, KeyError):
        return context
    with translation.override(language):
        return {**context, "start_local": fmt_datetime_full(at, tz), "date": fmt_date_full(at.astimezone(tz))}


def render(*, source: TemplateSource, channel: str, language: str, context: Mapping[str, Any]) -> Rendered:
    context = localized(context, language)
    subject = " ".join(substitute(source.subject, context).split())[:SUBJECT_MAX]
    text = substitute(source.body, context).strip()
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
                "action_label": source.action or "",
                "clinic": context.get("clinic", ""),
                "language": language,
            },
        )
    return Rendered(subject=subject, text=text, html=html)
