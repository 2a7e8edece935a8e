"""Loyalty points: earned on paid spend, redeemed for money off, given to another patient.

Points are whole (unit ``PTS``), held in lots that expire after the programme's ``valid_days``.
*Earn*: ``round(paid × rate)`` (ROUND_HALF_EVEN), the rate of the service category (or the default
rate), on money paid only — never on discounts or on bonus balance (``wallet_spend`` earns on the
part paid from money). *Redeem*: points leave the patient's lots (first to expire first) for the
clinic's ``points_redeemed`` account, and ``points × point_value`` (rounded to the currency's minor
unit) goes from the clinic's ``discounts`` account to the patient's bonus balance, without expiry:
money off the next payment. *Give*: points move to another patient of the same organisation, each
lot keeping its expiry."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, Decimal

from django.db import transaction as db_transaction
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.catalogue.models import Service
from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.models import Organization
from clinicflow.ledger.models import POINTS, AccountKind, Posting, Transaction, TxKind
from clinicflow.ledger.services.inputs import clean_amount, clean_currency, clean_points
from clinicflow.ledger.services.journal import Leg, accounts_locked, post, round_unit
from clinicflow.ledger.services.locking import patients_locked
from clinicflow.ledger.services.lots import take_from_lots
from clinicflow.ledger.services.wallet import audit_money, earn_rate, points_program
from clinicflow.patients.models import Patient


def points_earn(
    *,
    org: Organization,
    actor: User | None,
    patient: Patient,
    paid: object,
    currency: object,
    category: str = "",
    reference: str = "",
    request: object = None,
) -> Transaction | None:
    """Points for ``paid`` money (a payment made outside the wallet, e.g. at checkout); None when the
    clinic has no active programme or the rounded points are zero."""
    unit = clean_currency(org, currency)
    amount = clean_amount(paid, unit, field="paid")
    program = points_program(org=org, currency=unit)
    earned = round_unit(amount * earn_rate(program, category), POINTS)
    if program is None or earned <= 0:
        return None
    days = program.valid_days
    now = timezone.now()
    expires = now + dt.timedelta(days=days) if days else None
    with db_transaction.atomic():
        wanted = [(AccountKind.POINTS, POINTS), (AccountKind.POINTS_ISSUED, POINTS)]
        acc, locked = accounts_locked(org=org, patient=patient, wanted=wanted)
        legs = [
            Leg(acc[(AccountKind.POINTS_ISSUED, POINTS)], -earned),
            Leg(acc[(AccountKind.POINTS, POINTS)], earned, expires_at=expires),
        ]
        txn = post(
            org=org, kind=TxKind.EARN, at=now, legs=legs, locked=locked, patient=patient, actor=actor,
            reference=reference,
        )  # fmt: skip
        audit_money(org, actor, txn, request)
    return txn


def points_redeem(
    *,
    org: Organization,
    actor: User | None,
    patient: Patient,
    points: object,
    currency: object,
    request: object = None,
    reference: str = "",
) -> Transaction:
    """Turn points into money off: the bonus balance grows by ``points × point_value``."""
    count = clean_points(points)
    unit = clean_currency(org, currency)
    program = points_program(org=org, currency=unit)
    if program is None or not program.is_active:
        raise ValidationFailed.field("currency", "no points programme in this currency")
    value = round_unit(count * program.point_value, unit)
    if value <= 0:
        raise ValidationFailed.field("points", "worth nothing at the programme's rate")
    with db_transaction.atomic():
        acc, locked = accounts_locked(
            org=org,
            patient=patient,
            wanted=[
                (AccountKind.POINTS, POINTS),
                (AccountKind.BONUS, unit),
                (AccountKind.POINTS_REDEEMED, POINTS),
                (AccountKind.DISCOUNTS, unit),
            ],
        )
        held, bonus = acc[(AccountKind.POINTS, POINTS)], acc[(AccountKind.BONUS, unit)]
        legs = take_from_lots(org=org, account=locked[held.pk], amount=count)
        if -sum((leg.amount for leg in legs), Decimal(0)) < count:
            raise Conflict("not enough points", fields={"points": ["exceeds the points held"]})
        legs += [
            Leg(acc[(AccountKind.POINTS_REDEEMED, POINTS)], count),
            Leg(acc[(AccountKind.DISCOUNTS, unit)], -value),
            Leg(bonus, value),
        ]
        txn = post(
            org=org, kind=TxKind.REDEEM, legs=legs, locked=locked, patient=patient, actor=actor,
            reference=reference,
        )  # fmt: skip
        audit_money(org, actor, txn, request)
    return txn


def points_for_service(*, org: Organization, service: Service) -> Decimal:
    """Points a procedure costs: its list price / the point value, rounded up to whole points."""
    program = points_program(org=org, currency=service.currency)
    if program is None or not program.is_active or program.point_value <= 0:
        raise ValidationFailed.field("service", "no points programme in the service's currency")
    return (service.price / program.point_value).to_integral_value(rounding=ROUND_CEILING)


def points_redeem_service(
    *, org: Organization, actor: User | None, patient: Patient, service: Service, request: object = None
) -> Transaction:
    """Redeem points for a procedure: its price in points becomes bonus of (at least) its price,
    referenced with the service's code, for checkout to take off that procedure."""
    if service.organization_id != org.pk:
        raise ValidationFailed.field("service", "no such service")
    return points_redeem(
        org=org, actor=actor, patient=patient, points=points_for_service(org=org, service=service),
        currency=service.currency, request=request, reference=f"service:{service.code}",
    )  # fmt: skip


def points_give(
    *,
    org: Organization,
    actor: User | None,
    patient: Patient,
    to_patient: Patient,
    points: object,
    request: object = None,
) -> Transaction:
    """Give points to another patient of the same organisation; each lot keeps its expiry."""
    count = clean_points(points)
    if to_patient.organization_id != org.pk or patient.organization_id != org.pk:
        raise ValidationFailed.field("to_patient", "no such patient")
    if to_patient.pk == patient.pk:
        raise ValidationFailed.field("to_patient", "the points are already this patient's")
    now = timezone.now()
    with db_transaction.atomic():
        each = patients_locked(org=org, patients=[patient, to_patient], kind=AccountKind.POINTS, unit=POINTS)
        giver, taker = each[patient.pk], each[to_patient.pk]
        locked = {giver.pk: giver, taker.pk: taker}
        legs = take_from_lots(org=org, account=locked[giver.pk], amount=count)
        if -sum((leg.amount for leg in legs), Decimal(0)) < count:
            raise Conflict("not enough points", fields={"points": ["exceeds the points held"]})
        expiry = dict(
            Posting.objects.for_org(org)
            .filter(pk__in=[leg.lot for leg in legs])
            .values_list("pk", "expires_at")
        )
        legs += [
            Leg(taker, -leg.amount, expires_at=expiry.get(leg.lot) if leg.lot else None) for leg in list(legs)
        ]
        txn = post(
            org=org, kind=TxKind.GIVE, at=now, legs=legs, locked=locked, patient=patient, actor=actor,
            reference=str(to_patient.pk),
        )  # fmt: skip
        audit_money(org, actor, txn, request)
    return txn
