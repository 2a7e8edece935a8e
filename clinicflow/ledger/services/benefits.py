"""What memberships give at checkout: the interface between checkout (``services/checkout.py``,
``services/invoices.py``) and memberships (``services/memberships.py``).

Checkout calls these functions and nothing else of memberships. The memberships that count are the
patient's own and those shared with them (family), active on the date (started, not frozen, not
ended, not cancelled; stored value gives no benefit here). Included procedures: the plan's
``included`` maps a service code to a number per period (30-day months for a monthly plan, else the
whole term). Discounts: ``category_discounts`` maps a service category to a percentage; the best
one of the patient's memberships applies. The fee itself is earned straight-line
(``services/memberships.py``), so an included procedure recognises no revenue of its own.

- ``membership_discounts``: the discounts the patient's active memberships give on an invoice's lines
  (a percentage per service category), asked when the invoice is built; each becomes an
  ``InvoiceDiscount`` of kind ``membership`` on its line.
- ``included_covers``: which lines a membership's included procedure (fee-based benefit, prepaid
  package) may pay, for the checkout page to offer.
- ``use_included``: pay one line with an included procedure of ``membership``: record the use, post
  its journal transaction (e.g. prepaid value earned) and say how much of it is recognised as revenue
  now (``recognised``: checkout writes it as a ``booking.Payment`` with method ``membership``; zero
  when the fee was revenue already). Refusals are ``ValidationFailed`` naming ``membership``.
- ``release_included``: the line paid by an included procedure was refunded: give the use back.
- ``on_invoice_paid`` / ``on_invoice_refunded``: after a checkout / a refund committed its postings
  (same database transaction): e.g. grant a referral reward on the referred patient's first paid
  visit, reverse it when that payment is refunded.

Amounts are ``Decimal`` in the invoice's currency, rounded by the ledger's rule (``round_unit``)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.catalogue.models import Service
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import Organization
from clinicflow.core.selectors import parse_uuid
from clinicflow.ledger.models.memberships import (
    BenefitKind,
    Membership,
    MembershipMember,
    MembershipStatus,
    MembershipUse,
)
from clinicflow.ledger.models.plans import PlanKind, PlanPeriod
from clinicflow.ledger.services.journal import round_unit
from clinicflow.patients.models import Patient

if TYPE_CHECKING:
    from clinicflow.ledger.models import Invoice, Transaction


@dataclass(frozen=True)
class LineInfo:
    """One invoice line as memberships see it."""

    position: int
    service_id: uuid.UUID | None
    category: str
    quantity: Decimal
    unit_price: Decimal
    total: Decimal  # after the discounts already on it


@dataclass(frozen=True)
class BenefitDiscount:
    position: int
    amount: Decimal
    reason: str
    reference: str  # the membership's id


@dataclass(frozen=True)
class IncludedCover:
    position: int
    membership: str  # the membership's id
    label: str
    left: int  # included procedures of this kind left in the period


@dataclass(frozen=True)
class IncludedUse:
    transaction: Transaction | None
    recognised: Decimal
    reference: str  # the use's id, given back to ``release_included``


def held_memberships(*, org: Organization, patient: Patient, at: dt.datetime) -> list[Membership]:
    """Memberships the patient holds or shares that give benefits on ``at``."""
    shared = MembershipMember.objects.for_org(org).filter(patient=patient).values("membership_id")
    qs = (
        Membership.objects.for_org(org)
        .filter(Q(patient=patient) | Q(pk__in=shared), status=MembershipStatus.ACTIVE)
        .filter(starts_at__lte=at, ends_at__gt=at)
        .exclude(plan__kind=PlanKind.STORED_VALUE)
        .select_related("plan")
        .order_by("starts_at", "pk")
    )
    return [m for m in qs if m.state_at(at) == MembershipStatus.ACTIVE]


def period_start(m: Membership, at: dt.datetime) -> dt.datetime:
    """The start of the benefit period holding ``at`` (30-day months; else the whole term)."""
    if m.plan.period != PlanPeriod.MONTH:
        return m.starts_at
    step = dt.timedelta(days=30)
    return m.starts_at + step * int((at - m.starts_at) / step)


def included_left(*, org: Organization, membership: Membership, code: str, at: dt.datetime) -> int:
    """How many more procedures ``code`` the membership includes in the period holding ``at``."""
    allowed = int(membership.plan.included.get(code, 0) or 0)
    if allowed <= 0:
        return 0
    used = (
        MembershipUse.objects.for_org(org)
        .filter(
            membership=membership, kind=BenefitKind.INCLUDED, service__code=code, released_at__isnull=True
        )
        .filter(used_at__gte=period_start(membership, at), used_at__lte=at)
        .count()
    )
    return max(allowed - used, 0)


def _percent(raw: object) -> Decimal:
    try:
        return min(max(Decimal(str(raw)), Decimal(0)), Decimal(100))
    except ArithmeticError:
        return Decimal(0)


def _codes(org: Organization, lines: Sequence[LineInfo]) -> dict[uuid.UUID, str]:
    ids = {line.service_id for line in lines if line.service_id is not None}
    return dict(Service.objects.for_org(org).filter(pk__in=ids).values_list("pk", "code"))


def membership_discounts(
    *, org: Organization, patient: Patient, currency: str, lines: Sequence[LineInfo], at: dt.datetime
) -> list[BenefitDiscount]:
    held = [m for m in held_memberships(org=org, patient=patient, at=at) if m.currency == currency]
    out = []
    for line in lines:
        best: tuple[Decimal, Membership | None] = (Decimal(0), None)
        for m in held:
            pct = _percent(m.plan.category_discounts.get(line.category)) if line.category else Decimal(0)
            if pct > best[0]:
                best = (pct, m)
        pct, chosen = best
        amount = round_unit(line.total * pct / 100, currency)
        if chosen is not None and amount > 0:
            reason = f"{chosen.plan.name}: {pct.normalize()}%"
            out.append(BenefitDiscount(line.position, amount, reason[:200], str(chosen.pk)))
    return out


def included_covers(
    *, org: Organization, patient: Patient, currency: str, lines: Sequence[LineInfo], at: dt.datetime
) -> list[IncludedCover]:
    held = [m for m in held_memberships(org=org, patient=patient, at=at) if m.currency == currency]
    codes = _codes(org, lines)
    out = []
    for line in lines:
        code = codes.get(line.service_id) if line.service_id else None
        for m in held if code else []:
            left = included_left(org=org, membership=m, code=code or "", at=at)
            if left > 0:
                out.append(IncludedCover(line.position, str(m.pk), m.plan.name, left))
    return out


def use_included(
    *,
    org: Organization,
    actor: User | None,
    patient: Patient,
    currency: str,
    line: LineInfo,
    membership: str,
    invoice_ref: str,
    at: dt.datetime,
) -> IncludedUse:
    """Record one included procedure (the membership row locked first, then read whether it is held
    and what it has left: two checkouts never both take the last one, and a cancellation or freeze
    committed meanwhile is seen). The fee is earned straight-line, so nothing is recognised now (0,
    no transaction)."""
    pk = parse_uuid(membership)
    if pk is not None:
        Membership.objects.for_org(org).select_for_update().filter(pk=pk).first()
    held = {m.pk: m for m in held_memberships(org=org, patient=patient, at=at)}
    found = held.get(pk) if pk is not None else None
    service = Service.objects.for_org(org).filter(pk=line.service_id).first() if line.service_id else None
    if found is None or service is None or found.currency != currency:
        raise ValidationFailed.field("membership", "no membership of the patient includes this procedure")
    if included_left(org=org, membership=found, code=service.code, at=at) <= 0:
        raise ValidationFailed.field("membership", "the included procedures of this period are used up")
    use = MembershipUse.objects.create(
        organization=org,
        membership=found,
        patient=patient,
        service=service,
        kind=BenefitKind.INCLUDED,
        list_price=line.unit_price,
        value=line.unit_price,
        reference=invoice_ref[:100],
        used_at=at,
    )
    return IncludedUse(transaction=None, recognised=Decimal(0), reference=str(use.pk))


def record_discount(
    *,
    org: Organization,
    patient: Patient,
    discount: BenefitDiscount,
    service: Service | None,
    invoice_ref: str,
) -> MembershipUse | None:
    """Record a membership discount given (what a cancellation deducts); checkout may call it."""
    m = Membership.objects.for_org(org).filter(pk=discount.reference).first()
    if m is None:
        return None
    return MembershipUse.objects.create(
        organization=org,
        membership=m,
        patient=patient,
        service=service,
        kind=BenefitKind.DISCOUNT,
        list_price=service.price if service else discount.amount,
        value=discount.amount,
        reference=invoice_ref[:100],
        used_at=timezone.now(),
    )


def release_included(
    *, org: Organization, actor: User | None, patient: Patient, use_reference: str, invoice_ref: str
) -> Transaction | None:
    pk = parse_uuid(use_reference)
    if pk is not None:
        uses = MembershipUse.objects.for_org(org).filter(pk=pk, patient=patient, released_at__isnull=True)
        uses.update(released_at=timezone.now())
    return None


def on_invoice_paid(*, org: Organization, actor: User | None, invoice: Invoice) -> None:
    """The referred patient's first paid visit rewards both sides once (``services/referrals.py``)."""
    from clinicflow.ledger.services.referrals import referral_reward

    if invoice.paid > 0:
        referral_reward(
            org=org,
            referred=invoice.patient,
            currency=invoice.currency,
            reference=str(invoice.pk),
            actor=actor,
        )


def on_invoice_refunded(*, org: Organization, actor: User | None, invoice: Invoice, amount: Decimal) -> None:
    """The rewarded first paid visit was refunded in full: the referral reward is reversed."""
    from clinicflow.ledger.services.referrals import referral_reverse

    if invoice.refunded >= invoice.paid:
        referral_reverse(org=org, referred=invoice.patient, actor=actor, reference=str(invoice.pk))
