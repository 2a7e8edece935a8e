"""Reads of the owner's alerts, always within the organisation."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from django.db.models import QuerySet

from clinicflow.accounts.models import User
from clinicflow.accounts.roles import PERMISSIONS
from clinicflow.analytics.owner.alert_models import AlertRule, AlertState, AlertSubscription, OwnerAlert
from clinicflow.core.models import Branch, Organization

OPEN = (AlertState.NEW, AlertState.SEEN)
ALERTS_PERMISSION = "reports.owner"


def alert_query(
    *, org: Organization, states: Collection[str] = OPEN, branch: Branch | None = None
) -> QuerySet[OwnerAlert]:
    """The alerts in these states (of one branch, or every one), newest first, with their branch."""
    qs = OwnerAlert.objects.for_org(org).filter(state__in=list(states))
    if branch is not None:
        qs = qs.filter(branch=branch)
    return qs.select_related("branch").order_by("-created_at", "metric", "subject", "pk")


def alert_list(
    *, org: Organization, states: Collection[str] = OPEN, branch: Branch | None = None, limit: int = 200
) -> list[OwnerAlert]:
    """The newest alerts in these states (of one branch, or every one), with their branch."""
    return list(alert_query(org=org, states=states, branch=branch)[:limit])


def alert_page(
    *,
    org: Organization,
    states: Collection[str] = OPEN,
    branch: Branch | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[OwnerAlert]]:
    """How many alerts match, and one page of them (``alert_query``'s order)."""
    qs = alert_query(org=org, states=states, branch=branch)
    return qs.count(), list(qs[offset : offset + limit])


def alert_get(*, org: Organization, alert_id: uuid.UUID) -> OwnerAlert | None:
    return OwnerAlert.objects.for_org(org).select_related("branch").filter(pk=alert_id).first()


def alert_rules(*, org: Organization) -> list[AlertRule]:
    return list(AlertRule.objects.for_org(org).select_related("branch").order_by("metric", "created_at"))


def alert_rule_get(*, org: Organization, rule_id: uuid.UUID) -> AlertRule | None:
    return AlertRule.objects.for_org(org).filter(pk=rule_id).first()


def alert_subscribed(*, org: Organization, user: User) -> bool:
    return AlertSubscription.objects.for_org(org).filter(user=user).exists()


def alert_recipients(*, org: Organization) -> list[User]:
    """Who gets the alerts by e-mail: active owners and managers who opted in and have an address."""
    ids = AlertSubscription.objects.for_org(org).values_list("user_id", flat=True)
    users = User.objects.filter(
        organization=org, pk__in=ids, is_active=True, role__in=sorted(PERMISSIONS[ALERTS_PERMISSION])
    )
    return [u for u in users.order_by("email") if u.email.strip()]
