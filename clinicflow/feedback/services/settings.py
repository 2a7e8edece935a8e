"""Edits of the feedback settings by a manager (each audited)."""

from __future__ import annotations

from urllib.parse import quote_plus

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

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


# The standard "what could be better" tags, keyed (the simulator ticks them by key, in this order).
DEFAULT_TAGS: tuple[tuple[str, str | Promise], ...] = (
    ("waiting", gettext_lazy("Waiting time")),
    ("result", gettext_lazy("The result")),
    ("price", gettext_lazy("Price")),
    ("staff", gettext_lazy("Staff attitude")),
    ("explanation", gettext_lazy("Explanations before the procedure")),
    ("aftercare", gettext_lazy("Aftercare and side effects")),
)
# the review sites offered by default, per branch country: (site, search link with the place's name)
REVIEW_SITES: dict[str, tuple[tuple[str, str], ...]] = {
    "RU": (("Яндекс Карты", "https://yandex.ru/maps/?text={q}"), ("2ГИС", "https://2gis.ru/search/{q}")),
    "CN": (("大众点评", "https://www.dianping.com/search/keyword/0/0_{q}"),),
    "": (("Google Maps", "https://www.google.com/maps/search/?api=1&query={q}"),),
}


@transaction.atomic
def improvement_tags_ensure(*, org: Organization) -> dict[str, ImprovementTag]:
    """The standard tags (labels in the organisation's language), each made unless a tag of that label
    exists; returns them by key. Idempotent; the clinic edits them afterwards."""
    with translation.override(org.default_language or "en"):
        labels = {key: str(label) for key, label in DEFAULT_TAGS}
    have = {t.label: t for t in ImprovementTag.objects.for_org(org)}
    position = len(have)
    out = {}
    for key, label in labels.items():
        tag = have.get(label)
        if tag is None:
            tag = ImprovementTag.objects.create(organization=org, label=label, position=position)
            position += 1
        out[key] = tag
    return out


@transaction.atomic
def review_links_ensure(*, org: Organization) -> int:
    """Default review-site links (a search for the branch on the country's usual sites) for each active
    branch without any link; returns how many were made."""
    with_links = set(ReviewLink.objects.for_org(org).values_list("branch_id", flat=True))
    rows = []
    for branch in Branch.objects.for_org(org).filter(is_active=True).order_by("name"):
        if branch.pk in with_links:
            continue
        query = quote_plus(f"{org.name} {branch.name}")
        for i, (site, url) in enumerate(REVIEW_SITES.get(branch.country, REVIEW_SITES[""])):
            rows.append(
                ReviewLink(organization=org, branch=branch, site=site, url=url.format(q=query), position=i)
            )
    ReviewLink.objects.bulk_create(rows)
    return len(rows)
