"""Edits of the feedback settings by a manager (each audited)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from clinicflow.accounts.models import User
from clinicflow.catalogue.models import ServiceCategory
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import ValidationFailed, require_choice
from clinicflow.core.models import AuditAction, Branch, Organization
from clinicflow.feedback.models import FeedbackSettings, ImprovementTag, ReviewLink, SettledDelay


def _audit(org: Organization, actor: User | None, what: str, pk: object, request: HttpRequest | None) -> None:
    audit_record(
        org=org, actor=actor, action=AuditAction.UPDATE, object_type=what, object_id=pk, request=request
    )


@transaction.atomic
def settings_save(
    *,
    org: Organization,
    actor: User | None,
    survey_valid_days: int,
    complaint_deadline_hours: int,
    after_visit_delay_hours: int,
    request: HttpRequest | None = None,
) -> FeedbackSettings:
    for name, value, lo, hi in (
        ("survey_valid_days", survey_valid_days, 1, 90),
        ("complaint_deadline_hours", complaint_deadline_hours, 1, 720),
        ("after_visit_delay_hours", after_visit_delay_hours, 0, 72),
    ):
        if not lo <= value <= hi:
            raise ValidationFailed.field(name, f"must be {lo}-{hi}")
    conf, _created = FeedbackSettings.objects.update_or_create(
        organization=org,
        defaults={
            "survey_valid_days": survey_valid_days,
            "complaint_deadline_hours": complaint_deadline_hours,
            "after_visit_delay_hours": after_visit_delay_hours,
        },
    )
    _audit(org, actor, "feedback_settings", conf.pk, request)
    return conf


@transaction.atomic
def settled_delay_set(
    *, org: Organization, actor: User | None, category: str, days: int, request: HttpRequest | None = None
) -> SettledDelay:
    require_choice("category", category, ServiceCategory.values)
    if not 0 <= days <= 365:
        raise ValidationFailed.field("days", "must be 0-365")
    row, _created = SettledDelay.objects.update_or_create(
        organization=org, category=category, defaults={"days": days}
    )
    _audit(org, actor, "settled_delay", row.pk, request)
    return row


@transaction.atomic
def tag_add(
    *, org: Organization, actor: User | None, label: str, request: HttpRequest | None = None
) -> ImprovementTag:
    label = label.strip()
    if not label or len(label) > 60:
        raise ValidationFailed.field("label", "1-60 characters")
    position = ImprovementTag.objects.for_org(org).count()
    try:
        with transaction.atomic():
            tag = ImprovementTag.objects.create(organization=org, label=label, position=position)
    except IntegrityError as exc:
        raise ValidationFailed.field("label", "this tag exists") from exc
    _audit(org, actor, "improvement_tag", tag.pk, request)
    return tag


@transaction.atomic
def tag_toggle(
    *, org: Organization, actor: User | None, tag: ImprovementTag, request: HttpRequest | None = None
) -> ImprovementTag:
    tag.is_active = not tag.is_active
    tag.save(update_fields=["is_active"])
    _audit(org, actor, "improvement_tag", tag.pk, request)
    return tag


@transaction.atomic
def review_link_add(
    *,
    org: Organization,
    actor: User | None,
    branch: Branch,
    site: str,
    url: str,
    request: HttpRequest | None = None,
) -> ReviewLink:
    site, url = site.strip(), url.strip()
    if not site or len(site) > 60:
        raise ValidationFailed.field("site", "1-60 characters")
    try:
        URLValidator(schemes=["https", "http"])(url)
    except ValidationError as exc:
        raise ValidationFailed.field("url", "must be an http(s) link") from exc
    if branch.organization_id != org.pk:
        raise ValidationFailed.field("branch", "unknown branch")
    position = ReviewLink.objects.for_org(org).filter(branch=branch).count()
    link = ReviewLink.objects.create(organization=org, branch=branch, site=site, url=url, position=position)
    _audit(org, actor, "review_link", link.pk, request)
    return link


@transaction.atomic
def review_link_remove(
    *, org: Organization, actor: User | None, link: ReviewLink, request: HttpRequest | None = None
) -> None:
    pk = link.pk
    link.delete()
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.DELETE,
        object_type="review_link",
        object_id=pk,
        request=request,
    )
