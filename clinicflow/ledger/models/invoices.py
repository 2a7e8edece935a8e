"""Checkout: an invoice per visit, its lines and discounts, and the tenders that paid or refunded it.

``Invoice``: what one visit (``appointment``; or a sale without one) costs in one currency. Its
``subtotal`` is the sum of the lines before discounts, ``discount`` the sum of its discounts,
``total = subtotal - discount``. ``paid`` and ``refunded`` are kept in step with its tenders under the
invoice's row lock; ``paid <= total``, ``refunded <= paid``, and ``net = paid - refunded``.

``InvoiceTender``: one movement of money for the invoice — a payment by one method (cash, card,
transfer, the patient's balance, points, a membership's included procedure) or a refund back to the
tender it paid (``refund_of``). Each is one balanced journal ``Transaction``; the tenders that bring
revenue (see ``docs/ledger.md``, *Revenue*) also write a ``booking.Payment`` row (refunds with
``kind=refund``), which the revenue reports and the lifetime-value inputs read. Tenders are never
changed or deleted."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.booking.models import Appointment, Payment
from clinicflow.catalogue.models import Service
from clinicflow.core.models import AppendOnlyTenantManager, Branch, TenantModel, staff_ref
from clinicflow.ledger.models.accounts import AMOUNT_DIGITS, AMOUNT_PLACES
from clinicflow.ledger.models.journal import Transaction
from clinicflow.patients.models import Patient


def _money(label: Any, **kw: Any) -> models.DecimalField[Any, Any]:
    return models.DecimalField(label, max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, **kw)


def _fk(model: Any, *, null: bool = False) -> Any:
    return models.ForeignKey(
        model, on_delete=models.PROTECT, related_name="+", db_index=False, null=null, blank=null
    )


class InvoiceStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PAID = "paid", _("Paid")
    REFUNDED = "refunded", _("Refunded")
    PART_REFUNDED = "part_refunded", _("Partly refunded")


class InvoiceSource(models.TextChoices):
    CHECKOUT = "checkout", _("Checkout")
    MIGRATED = "migrated", _("From an earlier payment")
    SIMULATED = "simulated", _("Simulated")


class TenderMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Card")
    TRANSFER = "transfer", _("Bank transfer")
    ONLINE = "online", _("Online")
    BALANCE = "balance", _("Balance")
    POINTS = "points", _("Points")
    INCLUDED = "included", _("Included in a membership")
    # a payment recorded before checkout existed with method ``membership`` (migrated rows only)
    MEMBERSHIP = "membership", _("Membership")


# money from outside, received at the desk: each becomes a booking.Payment with the same method
OUTSIDE_METHODS = frozenset(
    {
        TenderMethod.CASH,
        TenderMethod.CARD,
        TenderMethod.TRANSFER,
        TenderMethod.ONLINE,
        TenderMethod.MEMBERSHIP,
    }
)
# what checkout accepts (``membership`` is only the method of migrated earlier payments)
CHECKOUT_METHODS = [m for m in TenderMethod.values if m != TenderMethod.MEMBERSHIP]


class TenderKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")


class DiscountKind(models.TextChoices):
    MEMBERSHIP = "membership", _("Membership benefit")
    COUPON = "coupon", _("Coupon")
    MANUAL = "manual", _("Manual discount")
    QUOTE = "quote", _("Quote discount")


class Invoice(TenantModel):
    number = models.CharField(_("number"), max_length=24)
    patient = _fk(Patient)
    branch = _fk(Branch)
    appointment = _fk(Appointment, null=True)
    currency = models.CharField(_("currency"), max_length=3)
    subtotal = _money(_("subtotal"), default=Decimal(0))
    discount = _money(_("discount"), default=Decimal(0))
    total = _money(_("total"), default=Decimal(0))
    paid = _money(_("paid"), default=Decimal(0))
    refunded = _money(_("refunded"), default=Decimal(0))
    status = models.CharField(
        _("status"), max_length=14, choices=InvoiceStatus.choices, default=InvoiceStatus.OPEN
    )
    source = models.CharField(
        _("source"), max_length=10, choices=InvoiceSource.choices, default=InvoiceSource.CHECKOUT
    )
    # loyalty points earned on the money paid, and taken back by refunds (docs/ledger.md)
    points_earned = models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=0, default=Decimal(0))
    points_taken_back = models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=0, default=Decimal(0))
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = staff_ref()
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invoice")
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="ledger_invoice_number_uniq"),
            # one invoice per visit
            models.UniqueConstraint(
                fields=["organization", "appointment"],
                condition=models.Q(appointment__isnull=False),
                name="ledger_invoice_visit_uniq",
            ),
            models.CheckConstraint(
                condition=models.Q(paid__lte=models.F("total"), refunded__lte=models.F("paid")),
                name="ledger_invoice_paid_within_total",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "patient", "created_at"], name="ledger_inv_org_patient_idx"),
            models.Index(fields=["organization", "branch", "created_at"], name="ledger_inv_org_branch_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def due(self) -> Decimal:
        return Decimal(self.total - self.paid)

    @property
    def net(self) -> Decimal:
        return Decimal(self.paid - self.refunded)


class InvoiceLine(TenantModel):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines", db_index=False)
    position = models.PositiveSmallIntegerField()
    service = _fk(Service, null=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    category = models.CharField(_("category"), max_length=20, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=9, decimal_places=2, default=Decimal(1))
    unit_price = _money(_("unit price"))
    discount = _money(_("discount"), default=Decimal(0))
    total = _money(_("line total"))
    # the accepted clinical quote line this price came from (a reference: clinical is a sibling app)
    quote_line_ref = models.UUIDField(null=True, blank=True)

    class Meta:
        verbose_name = _("invoice line")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "invoice", "position"], name="ledger_invline_pos_uniq"
            ),
        ]

    @property
    def gross(self) -> Decimal:
        return Decimal(self.total + self.discount)


class InvoiceDiscount(TenantModel):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="discounts", db_index=False)
    line = models.ForeignKey(
        InvoiceLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=12, choices=DiscountKind.choices)
    amount = _money(_("amount"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    # membership id, coupon redemption id, quote line id
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    created_by = staff_ref()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("invoice discount")
        indexes = [models.Index(fields=["organization", "invoice"], name="ledger_invdisc_org_inv_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="ledger_invdisc_positive")
        ]


class InvoiceTender(TenantModel):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="tenders", db_index=False)
    kind = models.CharField(_("kind"), max_length=8, choices=TenderKind.choices)
    method = models.CharField(_("method"), max_length=10, choices=TenderMethod.choices)
    amount = _money(_("amount"))
    points = models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=0, null=True, blank=True)
    # the part of the amount recognised as revenue (a booking.Payment row), see docs/ledger.md
    revenue = _money(_("revenue"), default=Decimal(0))
    refund_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    line = models.ForeignKey(
        InvoiceLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    transaction = _fk(Transaction, null=True)
    payment = _fk(Payment, null=True)
    # one checkout call (several tenders) or one refund call
    batch = models.UUIDField()
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = staff_ref()
    created_at = models.DateTimeField(default=timezone.now)

    objects: ClassVar[AppendOnlyTenantManager[InvoiceTender]] = AppendOnlyTenantManager()

    class Meta:
        verbose_name = _("invoice payment")
        indexes = [
            models.Index(fields=["organization", "invoice", "created_at"], name="ledger_tender_org_inv_idx"),
            models.Index(fields=["organization", "refund_of"], name="ledger_tender_org_refund_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="ledger_tender_positive")
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("InvoiceTender is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("InvoiceTender is append-only")
