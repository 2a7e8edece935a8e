"""Writes of an organisation's messaging configuration: its settings and its overrides of the
built-in message texts (``selectors`` reads them; ``services`` renders with them)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.core.audit import audit_record, audited_save
from clinicflow.core.errors import ValidationFailed, require_choice
from clinicflow.core.models import AuditAction, Organization
from clinicflow.messaging.catalog import LANGUAGES
from clinicflow.messaging.models import Channel, Kind, MessageTemplate, MessagingSettings
from clinicflow.messaging.rendering import PLACEHOLDER, SUBJECT_MAX

BODY_MAX = 10_000


@transaction.atomic
def messaging_settings_update(
    *, org: Organization, actor: User | None, allow_cross_border: bool
) -> MessagingSettings:
    row, _ = MessagingSettings.objects.for_org(org).get_or_create(organization=org)
    changed = row.allow_cross_border != allow_cross_border
    row.allow_cross_border = allow_cross_border
    audited_save(
        row,
        org=org,
        actor=actor,
        fields=["allow_cross_border"] if changed else [],
        object_type="messaging_settings",
    )
    return row


def _check_placeholders(field_name: str, text: str) -> None:
    for bad in ("{{", "{%"):
        if bad in text:
            raise ValidationFailed.field(field_name, "use {placeholder} substitution, not template tags")
    stripped = PLACEHOLDER.sub("", text)
    if "{" in stripped or "}" in stripped:
        raise ValidationFailed.field(field_name, "braces are only allowed around placeholder names")


def _check_template(*, kind: str, channel: str, language: str, subject: str, body: str) -> None:
    require_choice("kind", kind, Kind.values)
    require_choice("channel", channel, Channel.values)
    require_choice("language", language, LANGUAGES)
    if not body:
        raise ValidationFailed.field("body", "is required")
    if len(body) > BODY_MAX or len(subject) > SUBJECT_MAX:
        raise ValidationFailed.field("body", "is too long")
    if channel == Channel.EMAIL and not subject:
        raise ValidationFailed.field("subject", "is required for e-mail")
    _check_placeholders("subject", subject)
    _check_placeholders("body", body)


@transaction.atomic
def message_template_save(
    *,
    org: Organization,
    actor: User | None,
    kind: str,
    channel: str,
    language: str,
    subject: str,
    body: str,
) -> MessageTemplate:
    """Create or replace the organisation's override of one template."""
    subject, body = subject.strip(), body.strip()
    _check_template(kind=kind, channel=channel, language=language, subject=subject, body=body)
    row, created = MessageTemplate.objects.for_org(org).update_or_create(
        organization=org,
        kind=kind,
        channel=channel,
        language=language,
        defaults={
            "subject": subject if channel == Channel.EMAIL else "",
            "body": body,
            "updated_at": timezone.now(),
        },
    )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        object_type="message_template",
        object_id=row.pk,
        fields=["subject", "body"],
    )
    return row


@transaction.atomic
def message_template_delete(*, org: Organization, actor: User | None, template: MessageTemplate) -> None:
    if template.organization_id != org.id:
        raise ValidationFailed("template belongs to another organisation")
    pk = template.pk
    MessageTemplate.objects.for_org(org).filter(pk=pk).delete()
    audit_record(
        org=org, actor=actor, action=AuditAction.DELETE, object_type="message_template", object_id=pk
    )
