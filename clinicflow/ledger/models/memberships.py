"""Memberships sold to patients, the benefits they used, referrals, and the patient's secure link.

``Membership``: one plan (``MembershipPlan``) held by a patient from ``starts_at`` to ``ends_at``;
several per patient. Its fee (fee-based and package plans) is paid into the patient's ``prepaid``
account as one lot (``lot``: the opening posting), and earned straight-line over the term by the
journal (kind ``membership_earn``); a stored-value plan's sale is the wallet top-up (``sale``). A
frozen membership gives no benefit and its end moves by the days it was frozen. ``members``: family
members who share it when the plan is ``shareable``. ``MembershipUse``: one benefit used (an included
procedure, or a category discount), at the service's list price — what a cancellation deducts.

``ReferralCode`` (one per patient) and ``Referral`` (one per referred patient): the reward for both
sides is posted once, when the referred patient's first paid visit is done, and reversed if that
payment is refunded. ``ReferralProgram``: the clinic's rules. ``PatientLink``: the token (only its
SHA-256 stored) of the page a patient opens without logging in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.catalogue.models import Service
from clinicflow.core.models import TenantModel, staff_ref
from clinicflow.ledger.models.accounts import AMOUNT_DIGITS, AMOUNT_PLACES
from clinicflow.ledger.models.journal import Posting, Transaction
from clinicflow.ledger.models.plans import MembershipPlan
from clinicflow.patients.models import Patient


def _fk(model: Any, *, null: bool = False, related_name: str = "+") -> Any:
    return models.ForeignKey(
        model, on_delete=models.PROTECT, related_name=related_name, db_index=False, null=null, blank=null
    )


def _money(label: Any, **kw: Any) -> models.DecimalField[Any, Any]:
    return models.DecimalField(label, max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, **kw)


class MembershipStatus(models.TextChoices):
    """Stored: ``active`` or ``cancelled``; ``frozen`` and ``ended`` are states on a date
    (``Membership.state_at``)."""

    ACTIVE = "active", _("Active")
    FROZEN = "frozen", _("Frozen")
    CANCELLED = "cancelled", _("Cancelled")
    ENDED = "ended", _("Ended")


class Membership(TenantModel):
    patient = _fk(Patient)
    plan = _fk(MembershipPlan)
    status = models.CharField(
        _("status"), max_length=12, choices=MembershipStatus.choices, default=MembershipStatus.ACTIVE
    )
    currency = models.CharField(_("currency"), max_length=3)
    price = _money(_("price"))
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    # the last freeze [frozen_from, frozen_until); frozen_days: all freezes so far (ends_at moved by them)
    frozen_from = models.DateTimeField(_("frozen since"), null=True, blank=True)
    frozen_until = models.DateTimeField(_("frozen until"), null=True, blank=True)
    frozen_days = models.PositiveIntegerField(_("days frozen"), default=0)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    refund = _money(_("refund"), null=True, blank=True)
    sale = _fk(Transaction, null=True)
    lot = _fk(Posting, null=True)
    renewed_from = _fk("self", null=True)
    members = models.ManyToManyField(Patient, related_name="+", blank=True, through="MembershipMember")
    created_by = staff_ref()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("membership")
        indexes = [
            models.Index(fields=["organization", "patient", "status"], name="ledger_member_org_pat_idx"),
            models.Index(fields=["organization", "plan"], name="ledger_member_org_plan_idx"),
            models.Index(fields=["organization", "starts_at"], name="ledger_member_org_start_idx"),
            models.Index(fields=["organization", "sale"], name="ledger_member_org_sale_idx"),
            models.Index(fields=["organization", "lot"], name="ledger_member_org_lot_idx"),
            models.Index(fields=["organization", "renewed_from"], name="ledger_member_org_renew_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.status}"

    def state_at(self, at: dt.datetime) -> str:
        if self.status == MembershipStatus.CANCELLED:
            return MembershipStatus.CANCELLED
        if at >= self.ends_at:
            return MembershipStatus.ENDED
        if self.frozen_from and self.frozen_until and self.frozen_from <= at < self.frozen_until:
            return MembershipStatus.FROZEN
        return MembershipStatus.ACTIVE if at >= self.starts_at else "not_started"


class MembershipMember(TenantModel):
    """A family member who shares a shareable membership."""

    membership = _fk(Membership)
    patient = _fk(Patient)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "membership", "patient"], name="ledger_member_share_uniq"
            ),
        ]
        indexes = [models.Index(fields=["organization", "patient"], name="ledger_member_share_pat_idx")]


class BenefitKind(models.TextChoices):
    INCLUDED = "included", _("Included procedure")
    DISCOUNT = "discount", _("Discount")


class MembershipUse(TenantModel):
    """A benefit given: an included procedure (``value`` = its list price) or a discount (``value``
    = the money taken off). ``reference``: the invoice or appointment it was given on."""

    membership = _fk(Membership)
    patient = _fk(Patient)
    service = _fk(Service, null=True)
    kind = models.CharField(_("kind"), max_length=10, choices=BenefitKind.choices)
    list_price = _money(_("list price"))
    value = _money(_("value"))
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    used_at = models.DateTimeField(default=timezone.now)
    # the line it paid was refunded: the use is given back (kept for the history, counted no more)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "membership", "used_at"], name="ledger_use_org_member_idx"),
            models.Index(fields=["organization", "patient"], name="ledger_use_org_patient_idx"),
            models.Index(fields=["organization", "service"], name="ledger_use_org_service_idx"),
        ]


class RewardKind(models.TextChoices):
    POINTS = "points", _("Points")
    BALANCE = "balance", _("Bonus balance")


class ReferralProgram(TenantModel):
    currency = models.CharField(_("currency"), max_length=3)
    reward_kind = models.CharField(
        _("reward"), max_length=10, choices=RewardKind.choices, default=RewardKind.POINTS
    )
    referrer_reward = _money(_("reward of the referrer"), default=Decimal(500))
    friend_reward = _money(_("reward of the friend"), default=Decimal(500))
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("referral programme")
        constraints = [
            models.UniqueConstraint(fields=["organization", "currency"], name="ledger_refprog_org_cur_uniq"),
        ]


class ReferralCode(TenantModel):
    patient = _fk(Patient)
    code = models.CharField(_("code"), max_length=16)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="ledger_refcode_org_code_uniq"),
            models.UniqueConstraint(fields=["organization", "patient"], name="ledger_refcode_org_pat_uniq"),
        ]


class ReferralStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the first paid visit")
    REWARDED = "rewarded", _("Rewarded")
    REJECTED = "rejected", _("Rejected")
    REVERSED = "reversed", _("Reversed (payment refunded)")


class Referral(TenantModel):
    referrer = _fk(Patient)
    referred = _fk(Patient)
    code = models.CharField(_("code"), max_length=16)
    status = models.CharField(
        _("status"), max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.PENDING
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    reward = _fk(Transaction, null=True)
    reference = models.CharField(_("paid visit"), max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    rewarded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("referral")
        constraints = [
            # a patient is referred (and rewarded) once
            models.UniqueConstraint(fields=["organization", "referred"], name="ledger_referral_once_uniq"),
        ]
        indexes = [
            models.Index(fields=["organization", "referrer"], name="ledger_referral_org_ref_idx"),
            models.Index(fields=["organization", "created_at"], name="ledger_referral_org_at_idx"),
            models.Index(fields=["organization", "reward"], name="ledger_referral_org_rew_idx"),
        ]


class PatientLink(TenantModel):
    patient = _fk(Patient)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    created_by = staff_ref()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "patient"], name="ledger_plink_org_pat_idx")]

    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at
