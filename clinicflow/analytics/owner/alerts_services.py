"""Writes of the owner's alerts: the rules the owner sets, e-mail opt-ins, an alert's state, and the
daily check (``check_alerts``, the worker's periodic job) that stores what ``owner.alerts`` finds —
each metric, subject and period once — and queues an ``owner_alert`` e-mail to every owner or manager
who opted in, in the same transaction (the outbox sends it after commit)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clinicflow.accounts.models import User
from clinicflow.analytics.owner.alert_models import AlertRule, AlertState, AlertSubscription, OwnerAlert
from clinicflow.analytics.owner.alerts import METRICS, RULE_METRICS, Finding, findings
from clinicflow.analytics.owner.alerts_selectors import (
    ALERTS_PERMISSION,
    alert_get,
    alert_recipients,
    alert_rule_get,
    alert_rules,
)
from clinicflow.catalogue.selectors import earliest_today
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import NotFound, PermissionDenied, ValidationFailed, require_choice
from clinicflow.core.models import AuditAction, Organization
from clinicflow.core.selectors import branch_find
from clinicflow.messaging.models import Kind
from clinicflow.messaging.staff import message_enqueue_staff

CENT = Decimal("0.01")
MAX_WINDOW_DAYS = 92
NEXT_WEEK_DAYS = 7
RULES_PERMISSION = "alerts.rules"  # owners set and remove the thresholds; managers read them
RULE_FIELDS = ("metric", "branch", "threshold", "window_days")


def _threshold(metric: str, raw: object) -> Decimal:
    try:
        value = Decimal(str(raw).strip().replace(",", ".").rstrip("%"))
    except InvalidOperation:
        raise ValidationFailed.field("threshold", "must be a number") from None
    low = Decimal(0) if METRICS[metric].unit == "percent" else Decimal(-100)
    if not value.is_finite() or not low <= value <= 100:
        raise ValidationFailed.field("threshold", f"must be from {low} to 100")
    return value.quantize(CENT)


def alert_rule_set(
    *,
    org: Organization,
    actor: User | None,
    metric: str,
    threshold: object,
    window_days: object,
    branch: str = "",
    request: HttpRequest | None = None,
) -> AlertRule:
    """Set the threshold of ``metric`` for a branch (its id or slug) or the chain (empty); a second rule
    on the same metric and branch replaces the first. Every field is checked before anything changes.
    A staff ``actor`` must be an owner (``alerts.rules``); the change is audited."""
    _may_set_rules(actor)
    require_choice("metric", metric, RULE_METRICS)
    value = _threshold(metric, threshold)
    try:
        days = NEXT_WEEK_DAYS if metric == "load_next_week" else int(str(window_days).strip())
    except ValueError:
        raise ValidationFailed.field("window_days", "must be a whole number of days") from None
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise ValidationFailed.field("window_days", f"must be from 1 to {MAX_WINDOW_DAYS}")
    found = None
    if branch.strip():
        found = branch_find(org=org, key=branch.strip())
        if found is None:
            raise ValidationFailed.field("branch", "unknown branch")
    with transaction.atomic():
        AlertRule.objects.for_org(org).filter(metric=metric, branch=found).delete()
        rule = AlertRule.objects.create(
            organization=org, metric=metric, branch=found, threshold=value, window_days=days, created_by=actor
        )
        audit_record(
            org=org,
            actor=actor,
            action=AuditAction.CREATE,
            object_type="alert_rule",
            object_id=rule.pk,
            fields=RULE_FIELDS,
            request=request,
        )
    return rule


def _may_set_rules(actor: User | None) -> None:
    if actor is not None and not actor.has_perm_cf(RULES_PERMISSION):
        raise PermissionDenied("only the owner sets and removes the alert thresholds")


def alert_rule_delete(
    *,
    org: Organization,
    rule_id: uuid.UUID,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> None:
    _may_set_rules(actor)
    rule = alert_rule_get(org=org, rule_id=rule_id)
    if rule is None:
        raise NotFound("no such alert rule")
    with transaction.atomic():
        rule.delete()
        audit_record(
            org=org,
            actor=actor,
            action=AuditAction.DELETE,
            object_type="alert_rule",
            object_id=rule_id,
            fields=RULE_FIELDS,
            request=request,
        )


def alert_subscription_set(*, org: Organization, user: User, on: bool) -> bool:
    """Opt ``user`` (an owner or manager of ``org``) in to the alerts by e-mail, or out."""
    if user.organization_id != org.pk or not user.has_perm_cf(ALERTS_PERMISSION):
        raise PermissionDenied("only owners and managers receive the alerts")
    qs = AlertSubscription.objects.for_org(org).filter(user=user)
    if not on:
        qs.delete()
        return False
    if not qs.exists():
        try:
            with transaction.atomic():
                AlertSubscription.objects.create(organization=org, user=user)
        except IntegrityError:
            pass  # opted in twice at once: already in
    return True


def alert_state_set(*, org: Organization, alert_id: uuid.UUID, state: str) -> OwnerAlert:
    require_choice("state", state, AlertState.values)
    alert = alert_get(org=org, alert_id=alert_id)
    if alert is None:
        raise NotFound("no such alert")
    OwnerAlert.objects.for_org(org).filter(pk=alert.pk).update(state=state)
    alert.state = state
    return alert


def _value_text(metric: str, value: Decimal) -> str:
    return f"{value:.1f}%" if METRICS[metric].unit == "percent" else f"{value:.1f}"


def describe(alert: OwnerAlert) -> dict[str, str]:
    """The alert in words, in the active language: metric, who, value, period and what it is against."""
    who = alert.subject_label or (
        alert.branch.display_name if alert.branch is not None else _("the whole chain")
    )
    if alert.threshold is not None:
        reference = _("the threshold is %(value)s") % {"value": _value_text(alert.metric, alert.threshold)}
    else:
        base = _value_text(alert.metric, alert.baseline or Decimal(0))
        reference = _("its normal level was %(value)s") % {"value": base}
    return {
        "metric": str(METRICS[alert.metric].label),
        "who": who,
        "value": _value_text(alert.metric, alert.value),
        "period": f"{alert.period_start.isoformat()} – {alert.period_end.isoformat()}",
        "reference": reference,
    }


def _notify(org: Organization, alerts: list[OwnerAlert], recipients: list[User]) -> int:
    url = str(settings.CLINICFLOW.get("PUBLIC_URL", "")).rstrip("/") + reverse("analytics:owner_alerts")
    n = 0
    for user in recipients:
        language = user.language or org.default_language
        for alert in alerts:
            with translation.override(language):
                context = {**describe(alert), "manage_url": url}
            message_enqueue_staff(
                org=org,
                to=user.email,
                name=user.full_name or user.email,
                language=language,
                kind=Kind.OWNER_ALERT,
                context=context,
                dedupe_key=f"owner_alert:{alert.pk}:{user.pk}",
            )
            n += 1
    return n


def _row(org: Organization, f: Finding) -> OwnerAlert:
    def dec(x: float | None) -> Decimal | None:
        return None if x is None else Decimal(str(x)).quantize(CENT)

    return OwnerAlert(
        organization=org,
        branch=f.branch,
        scope=f.scope,
        metric=f.metric,
        subject=f.subject[:64],
        subject_label=f.subject_label[:200],
        source=f.source,
        period_start=f.period_start,
        period_end=f.period_end,
        value=Decimal(str(f.value)).quantize(CENT),
        baseline=dec(f.baseline),
        threshold=dec(f.threshold),
        count=f.count,
    )


def alerts_store(*, org: Organization, found: list[Finding]) -> list[OwnerAlert]:
    """Store the findings not stored before (same metric, scope, subject and period: skipped) and queue
    their e-mails; returns the new alerts."""
    if not found:
        return []
    match = Q()
    for f in found:
        match |= Q(metric=f.metric, scope=f.scope, subject=f.subject, period_start=f.period_start)
    known = set(
        OwnerAlert.objects.for_org(org)
        .filter(match)
        .values_list("metric", "scope", "subject", "period_start", "period_end")
    )
    new: list[OwnerAlert] = []
    with transaction.atomic():
        for f in found:
            key = (f.metric, f.scope, f.subject[:64], f.period_start, f.period_end)
            if key in known:
                continue
            known.add(key)
            row = _row(org, f)
            try:
                with transaction.atomic():
                    row.save(force_insert=True)
            except IntegrityError:
                continue  # another check stored it first
            new.append(row)
        recipients = alert_recipients(org=org) if new else []
        if recipients:
            _notify(org, new, recipients)
            sent_at = timezone.now()
            OwnerAlert.objects.for_org(org).filter(pk__in=[a.pk for a in new]).update(emailed_at=sent_at)
            for alert in new:
                alert.emailed_at = sent_at
    return new


def alerts_check(*, org: Organization, today: dt.date | None = None) -> list[OwnerAlert]:
    """The check of one organisation as of ``today`` (default: its earliest branch-local date)."""
    day = today or earliest_today(org=org)
    return alerts_store(org=org, found=findings(org=org, today=day, rules=alert_rules(org=org)))


def check_alerts() -> str:
    """The worker's daily job: every organisation's check (idempotent: a period is alerted once)."""
    orgs = n = 0
    for org in Organization.objects.order_by("pk"):
        n += len(alerts_check(org=org))
        orgs += 1
    return f"alerts: {n} new in {orgs} organisations"
