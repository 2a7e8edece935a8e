"""The journal: transactions and their postings, append-only.

A ``Transaction`` is one movement of value (a top-up, a spend, a gift of points, an expiry, a
reversal); its ``Posting`` rows move amounts between accounts and sum to zero per unit (checked by
the service before writing and, on PostgreSQL, by a deferred constraint trigger at commit). Neither
is ever changed or deleted: ``save`` of an existing row and ``delete`` raise, the querysets refuse
bulk ``update``/``delete``, and on PostgreSQL triggers refuse UPDATE and DELETE. A correction is a
new transaction that ``reverses`` the first (at most one reversal per transaction).

A posting that credits a ``bonus`` or ``points`` account opens a *lot* (``expires_at`` may be set);
a posting that takes value from such an account names the lot it takes from (``lot``), so the value
left in a lot is its amount plus the amounts of the postings naming it."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.core.models import AppendOnlyTenantManager, TenantModel, staff_ref
from clinicflow.ledger.models.accounts import AMOUNT_DIGITS, AMOUNT_PLACES, Account
from clinicflow.patients.models import Patient


class TxKind(models.TextChoices):
    TOP_UP = "top_up", _("Top-up")
    SPEND = "spend", _("Payment from balance")
    REFUND = "refund", _("Refund")
    EARN = "earn", _("Points earned")
    REDEEM = "redeem", _("Points redeemed")
    GIVE = "give", _("Points given")
    EXPIRE = "expire", _("Expiry")
    REVERSAL = "reversal", _("Reversal")
    # checkout (ledger/services/checkout.py): a tender paying an invoice
    PAYMENT = "payment", _("Payment at checkout")
    # memberships and referrals (ledger/services/memberships.py, referrals.py)
    MEMBERSHIP_SALE = "membership_sale", _("Membership sold")
    MEMBERSHIP_EARN = "membership_earn", _("Membership fee earned")
    MEMBERSHIP_CANCEL = "membership_cancel", _("Membership cancelled")
    REFERRAL_REWARD = "referral_reward", _("Referral reward")


class _InsertOnly(TenantModel):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError(f"{type(self).__name__} is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError(f"{type(self).__name__} is append-only")


class Transaction(_InsertOnly):
    kind = models.CharField(_("kind"), max_length=20, choices=TxKind.choices)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    memo = models.CharField(_("memo"), max_length=300, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    created_by = staff_ref()
    created_at = models.DateTimeField(default=timezone.now)

    objects: ClassVar[AppendOnlyTenantManager[Transaction]] = AppendOnlyTenantManager()

    class Meta:
        verbose_name = _("ledger transaction")
        indexes = [
            models.Index(fields=["organization", "patient", "created_at"], name="ledger_tx_org_patient_idx"),
        ]
        constraints = [
            # a transaction is reversed at most once
            models.UniqueConstraint(fields=["organization", "reverses"], name="ledger_tx_org_reverses_uniq"),
        ]


class Posting(_InsertOnly):
    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, related_name="postings", db_index=False
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+", db_index=False)
    unit = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES)
    # a patient account's balance right after this posting (locked while written); None for the clinic's
    balance_after = models.DecimalField(
        max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, null=True, blank=True
    )
    # a patient account's posting number (1, 2, ...), given under the account's lock: the order the
    # balances were written in, and (unique) proof that no two writers ever posted past each other
    seq = models.PositiveBigIntegerField(null=True, blank=True)
    lot = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects: ClassVar[AppendOnlyTenantManager[Posting]] = AppendOnlyTenantManager()

    class Meta:
        verbose_name = _("ledger posting")
        indexes = [
            models.Index(
                fields=["organization", "account", "created_at", "id"], name="ledger_post_org_acct_idx"
            ),
            models.Index(fields=["organization", "transaction"], name="ledger_post_org_tx_idx"),
            models.Index(fields=["organization", "lot"], name="ledger_post_org_lot_idx"),
            # what was posted after a date (liability on a past date: the cached balances less the
            # postings since; on today's date an empty range instead of a scan of the journal)
            models.Index(fields=["organization", "created_at"], name="ledger_post_org_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="ledger_posting_not_zero"),
            models.UniqueConstraint(
                fields=["organization", "account", "seq"], name="ledger_posting_seq_uniq"
            ),
        ]
