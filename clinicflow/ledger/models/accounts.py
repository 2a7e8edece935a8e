"""Accounts of the ledger: who holds value, of which kind, in which unit.

An account belongs to the organisation, or to one of its patients. Its ``unit`` is an ISO 4217
currency code (amounts quantized to the currency's minor unit) or ``PTS`` (loyalty points, whole
numbers). Its balance is the sum of its postings: *value held by the account*. Patient accounts
(``money``, ``bonus``, ``points``) never go below zero; the organisation's source accounts
(``cash``: money received from outside; ``bonus_issued``, ``points_issued``, ``discounts``) go
negative by what they issued, and sink accounts (``revenue``, ``points_redeemed``, ``expired``) grow.
Every transaction sums to zero per unit, so all the balances of one unit always add up to zero.

``balance`` is a cache of that sum, updated in the same database transaction as the postings while
the account row is locked; ``clinicflow ledger verify`` recomputes it from the postings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.core.models import TenantModel
from clinicflow.patients.models import Patient

POINTS = "PTS"
AMOUNT_DIGITS = 18
AMOUNT_PLACES = 2


class AccountKind(models.TextChoices):
    # a patient's accounts (liabilities of the clinic: never below zero)
    MONEY = "money", _("Balance")
    BONUS = "bonus", _("Bonus balance")
    POINTS = "points", _("Points")
    # a membership's fee paid ahead and not yet earned (one lot per membership; issue #16 memberships)
    PREPAID = "prepaid", _("Prepaid memberships")
    # the organisation's accounts
    CASH = "cash", _("Cash in (clearing)")
    REVENUE = "revenue", _("Revenue from balances")
    BONUS_ISSUED = "bonus_issued", _("Bonus issued")
    DISCOUNTS = "discounts", _("Discounts given for points")
    POINTS_ISSUED = "points_issued", _("Points issued")
    POINTS_REDEEMED = "points_redeemed", _("Points redeemed")
    EXPIRED = "expired", _("Expired value")


PATIENT_KINDS = frozenset({AccountKind.MONEY, AccountKind.BONUS, AccountKind.POINTS, AccountKind.PREPAID})
# value whose lots may expire (a posting crediting them opens a lot, debits consume lots)
LOT_KINDS = frozenset({AccountKind.BONUS, AccountKind.POINTS, AccountKind.PREPAID})


class Account(TenantModel):
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=20, choices=AccountKind.choices)
    unit = models.CharField(_("unit"), max_length=3)
    balance = models.DecimalField(
        _("balance"), max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, default=Decimal(0)
    )
    # the number of the account's last posting (patient accounts; see Posting.seq)
    last_seq = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ledger account")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "patient", "kind", "unit"],
                condition=models.Q(patient__isnull=False),
                name="ledger_account_patient_uniq",
            ),
            models.UniqueConstraint(
                fields=["organization", "kind", "unit"],
                condition=models.Q(patient__isnull=True),
                name="ledger_account_org_uniq",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind__in=sorted(PATIENT_KINDS)) | models.Q(balance__gte=0),
                name="ledger_account_patient_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.unit}"

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("ledger accounts are never deleted")
