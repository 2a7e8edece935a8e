"""Staff roles and the permission matrix: declared once, deny by default."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Clinic manager")
    MARKETER = "marketer", _("Marketer")
    FRONTDESK = "frontdesk", _("Front desk")
    DOCTOR = "doctor", _("Doctor")


O, M, K, F, D = Role.OWNER, Role.MANAGER, Role.MARKETER, Role.FRONTDESK, Role.DOCTOR
ALL = frozenset({O, M, K, F, D})

# permission -> roles that hold it. Anything not listed here is denied to everyone.
PERMISSIONS: dict[str, frozenset[str]] = {
    # patients
    "patients.view": ALL,
    "patients.view_contacts": frozenset({O, M, F, D}),
    "patients.view_clinical": frozenset({O, M, D}),
    "patients.view_consents": frozenset({O, M, F, D}),
    "patients.edit": frozenset({O, M, F, D}),
    "patients.edit_clinical": frozenset({O, D}),
    "patients.merge": frozenset({O, M}),
    "patients.export": frozenset({O, M}),
    # emergency ("break-glass") access to one patient beyond the role or the user's branch (AC-05),
    # and the review of every grant (the list, revocation)
    "patients.break_glass": frozenset({M, F, D}),
    "patients.break_glass_review": frozenset({O, M}),
    # organisation settings and staff
    "org.settings": frozenset({O}),
    "org.staff": frozenset({O, M}),
    # imports (issue #20): CSV/XLSX and YCLIENTS imports, saved column mappings, webhook secrets
    "imports.run": frozenset({O, M}),
    "audit.view": frozenset({O}),
    # the breach register (PR-05): incidents, deadlines, affected patients (no privacy-officer role yet)
    "privacy.incidents": frozenset({O, M}),
    # data-subject rights (issue #20): export, correction, erasure, retention runs
    "privacy.requests": frozenset({O, M}),
    # outgoing webhooks (issue #20): subscriptions, the delivery log, replay
    "webhooks.manage": frozenset({O, M}),
    # catalogue, booking and capacity
    "catalogue.view": ALL,
    "catalogue.manage": frozenset({O, M}),
    # marketing (issue #19): calendar, offers, audiences, campaigns; redeeming a coupon at checkout
    "marketing.view": frozenset({O, M, K}),
    "marketing.manage": frozenset({O, M, K}),
    "marketing.redeem": frozenset({O, M, F}),
    "booking.view": frozenset({O, M, F, D}),
    "booking.book": frozenset({O, M, F}),
    "booking.manage": frozenset({O, M}),
    "booking.own_schedule": frozenset({D}),
    # clinical records (issue #14): consultations and quotes, treatment records and complications,
    # photos, e-consent; the templates, SOPs and consent texts; the monthly case review
    "clinical.view": frozenset({O, M, D}),
    "clinical.record": frozenset({O, D}),
    "clinical.photos": frozenset({O, D}),
    "clinical.manage": frozenset({O, M}),
    "clinical.review": frozenset({O, M, D}),
    "consents.missing": frozenset({O, M, F, D}),
    "consents.sign": frozenset({O, M, F, D}),
    # feedback (issue #15): surveys and answers, complaints, survey settings (tags, review links, delays)
    "feedback.view": frozenset({O, M, F, D}),
    "feedback.send": frozenset({O, M, F}),
    "feedback.manage": frozenset({O, M}),
    "complaints.manage": frozenset({O, M}),
    "reports.feedback": frozenset({O, M}),
    # aftercare and recall (issue #15): follow-up tasks and their outcomes, the plans, recall lists
    "tasks.view": frozenset({O, M, F, D}),
    "tasks.manage": frozenset({O, M}),
    "recall.view": frozenset({O, M, F}),
    "recall.record": frozenset({O, M, F}),
    "reports.care": frozenset({O, M}),
    # checkout and loyalty (issue #16): wallets and ledger lines, moving value, reversals and plans
    "wallet.view": frozenset({O, M, F}),
    "wallet.move": frozenset({O, M, F}),
    "ledger.manage": frozenset({O, M}),
    # acquisition and calls
    "acquisition.view": frozenset({O, M, K}),
    "acquisition.manage": frozenset({O, K}),
    "calls.view": frozenset({O, M, F}),
    "calls.handle": frozenset({O, M, F}),
    "calls.review": frozenset({O, M}),
    "integrations.manage": frozenset({O}),
    # messaging
    "messaging.view": frozenset({O, M}),
    "messaging.manage": frozenset({O, M}),
    "messaging.demo_inbox": frozenset({O, M, F}),  # the demo inbox page (demo channel only)
    # analytics and reports
    "reports.view": frozenset({O, M, K}),
    "reports.marketing": frozenset({O, M, K}),
    "reports.frontdesk": frozenset({O, M}),
    "reports.clinical": frozenset({O, M}),
    "reports.capacity": frozenset({O, M}),
    "reports.owner": frozenset({O, M}),  # the owner's view: home, revenue, cohorts, CLV classes (#17)
    "alerts.rules": frozenset({O}),  # the owner's alert thresholds (#17): managers read them (reports.owner)
}


def has_permission(role: str | None, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"undeclared permission {permission!r}")
    return bool(role) and role in PERMISSIONS[permission]


def permissions_for(role: str) -> frozenset[str]:
    return frozenset(p for p, roles in PERMISSIONS.items() if role in roles)
