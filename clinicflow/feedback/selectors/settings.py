"""Reads of the feedback settings: tags, review links, settled delays, timings."""

from __future__ import annotations

from clinicflow.accounts.models import User
from clinicflow.accounts.roles import Role
from clinicflow.booking.selectors.base import get_by_id
from clinicflow.core.models import Branch, Organization
from clinicflow.feedback.models import (
    DEFAULT_SETTLED_DAYS,
    FeedbackSettings,
    ImprovementTag,
    ReviewLink,
    SettledDelay,
)


def settings_for(*, org: Organization) -> FeedbackSettings:
    """The organisation's settings (defaults, unsaved, when it has none)."""
    found: FeedbackSettings | None = FeedbackSettings.objects.for_org(org).first()
    return found or FeedbackSettings(organization=org)


def settled_days(*, org: Organization) -> dict[str, int]:
    """Days until the result settles, per service group (the organisation's own, else the default);
    groups with 0 days have no settled survey."""
    days = dict(DEFAULT_SETTLED_DAYS)
    for row in SettledDelay.objects.for_org(org):
        days[row.category] = row.days
    return {k: v for k, v in days.items() if v > 0}


def tag_list(*, org: Organization, active_only: bool = False) -> list[ImprovementTag]:
    qs = ImprovementTag.objects.for_org(org)
    if active_only:
        qs = qs.filter(is_active=True)
    return list(qs.order_by("position", "label"))


def tag_labels(*, org: Organization, ids: list[str]) -> list[str]:
    """The labels of the tags an answer ticked (ids as the answer holds them), in the clinic's order;
    no query when it ticked none."""
    wanted = {str(i) for i in ids}
    if not wanted:
        return []
    return [t.label for t in tag_list(org=org) if str(t.pk) in wanted]


def tag_get(*, org: Organization, tag_id: object) -> ImprovementTag:
    return get_by_id(ImprovementTag.objects.for_org(org), tag_id, "tag")


def review_links(*, org: Organization, branch: Branch | None = None) -> list[ReviewLink]:
    qs = ReviewLink.objects.for_org(org).select_related("branch")
    if branch is not None:
        qs = qs.filter(branch=branch)
    return list(qs.order_by("branch__name", "position", "site"))


def review_link_get(*, org: Organization, link_id: object) -> ReviewLink:
    return get_by_id(ReviewLink.objects.for_org(org), link_id, "review link")


def branch_manager(*, org: Organization, branch: Branch) -> User | None:
    """Who owns a new complaint of the branch: an active manager of that branch, else a manager of
    every branch, else the owner."""
    staff = User.objects.filter(organization=org, is_active=True)
    for qs in (
        staff.filter(role=Role.MANAGER, branch=branch),
        staff.filter(role=Role.MANAGER, branch__isnull=True),
        staff.filter(role=Role.OWNER),
    ):
        user: User | None = qs.order_by("date_joined", "pk").first()
        if user is not None:
            return user
    return None


def complaint_owners(*, org: Organization) -> list[User]:
    """Staff who may own a complaint (managers and owners), by name."""
    return list(
        User.objects.filter(organization=org, is_active=True, role__in=[Role.MANAGER, Role.OWNER]).order_by(
            "full_name", "email"
        )
    )


def owner_get(*, org: Organization, user_id: object) -> User:
    qs = User.objects.filter(organization=org, is_active=True, role__in=[Role.MANAGER, Role.OWNER])
    return get_by_id(qs, user_id, "user")
