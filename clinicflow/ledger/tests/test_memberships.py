"""Memberships on the journal: sale into the prepaid account, straight-line earning, freeze, renew,
cancel with the pro-rata refund minus used benefits, family sharing, benefits at checkout."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from freezegun import freeze_time

from clinicflow.catalogue.tests.factories import make_service
from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import MembershipStatus, PlanKind, PlanPeriod, Posting, TxKind
from clinicflow.ledger.services.benefits import (
    LineInfo,
    included_covers,
    membership_discounts,
    release_included,
    use_included,
)
from clinicflow.ledger.services.memberships import (
    membership_cancel,
    membership_earn,
    membership_freeze,
    membership_renew,
    membership_sell,
)
from clinicflow.ledger.services.verify import ledger_verify
from clinicflow.ledger.tests.factories import make_patient, make_plan, patient_balance, replay

pytestmark = pytest.mark.django_db


def _fee_plan(org: Organization, **fields: object) -> object:
    values: dict[str, object] = {
        "kind": PlanKind.FEE, "name": "Gold", "price": Decimal("36500"), "credit": None,
        "bonus_valid_days": None, "period": PlanPeriod.YEAR, "duration_days": 365,
        "category_discounts": {"laser": "10"}, "included": {"peel": 1}, "freezable_days": 30,
    }  # fmt: skip
    values.update(fields)
    return make_plan(org, code=str(values.pop("code", "gold")), **values)


def _line(service: object, position: int = 1) -> LineInfo:
    price = service.price  # type: ignore[attr-defined]
    return LineInfo(position, service.pk, service.category, Decimal(1), price, price)  # type: ignore[attr-defined]


def _sums_zero(org: Organization) -> None:
    sums: dict[tuple[object, str], Decimal] = {}
    for p in Posting.objects.for_org(org):
        key = (p.transaction_id, p.unit)
        sums[key] = sums.get(key, Decimal(0)) + p.amount
    assert all(v == 0 for v in sums.values())


def test_a_fee_plan_sale_is_prepaid_liability_earned_straight_line(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    plan = _fee_plan(org)
    start = timezone.now()
    with freeze_time(start):
        m = membership_sell(org=org, actor=None, patient=patient, plan=plan)  # type: ignore[arg-type]
    assert m.sale is not None and m.sale.kind == TxKind.MEMBERSHIP_SALE
    assert patient_balance(org, patient, "prepaid") == Decimal("36500.00")
    txn = membership_earn(org=org, membership=m, at=start + dt.timedelta(days=100))
    assert txn is not None
    # 100 of 365 days: 10,000.00 earned, 26,500.00 still owed to the patient
    assert patient_balance(org, patient, "prepaid") == Decimal("26500.00")
    assert membership_earn(org=org, membership=m, at=start + dt.timedelta(days=100)) is None
    membership_earn(org=org, membership=m, at=start + dt.timedelta(days=400))
    assert patient_balance(org, patient, "prepaid") == Decimal(0)
    assert replay(org, patient, "prepaid") == Decimal(0)
    _sums_zero(org)
    assert ledger_verify(org=org).ok


def test_cancel_refunds_pro_rata_minus_used_benefits_at_list_price(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    peel = make_service(org, code="peel", price="3000.00", category="peels")
    plan = _fee_plan(org)
    start = timezone.now() - dt.timedelta(days=73)
    with freeze_time(start):
        m = membership_sell(org=org, actor=None, patient=patient, plan=plan)  # type: ignore[arg-type]
    now = timezone.now()
    covers = included_covers(org=org, patient=patient, currency="RUB", lines=[_line(peel)], at=now)
    assert [(c.position, c.membership, c.left) for c in covers] == [(1, str(m.pk), 1)]
    used = use_included(
        org=org, actor=None, patient=patient, currency="RUB", line=_line(peel), membership=str(m.pk),
        invoice_ref="inv-1", at=now,
    )  # fmt: skip
    assert used.recognised == Decimal(0)
    # the one peel of the year is used: no more cover, and a second use is refused
    assert included_covers(org=org, patient=patient, currency="RUB", lines=[_line(peel)], at=now) == []
    with pytest.raises(ValidationFailed) as err:
        use_included(
            org=org, actor=None, patient=patient, currency="RUB", line=_line(peel), membership=str(m.pk),
            invoice_ref="inv-2", at=now,
        )  # fmt: skip
    assert "membership" in err.value.fields
    with freeze_time(start + dt.timedelta(days=73)):
        done = membership_cancel(org=org, actor=None, membership=m)
    # 292 of 365 days left: 29,200.00 pro rata, minus the peel at list price 3,000.00
    assert done.status == MembershipStatus.CANCELLED
    assert done.refund == Decimal("26200.00")
    assert patient_balance(org, patient, "prepaid") == Decimal(0)
    _sums_zero(org)
    assert ledger_verify(org=org).ok
    with pytest.raises(Conflict):
        membership_cancel(org=org, actor=None, membership=m)


def test_category_discount_and_family_sharing(org: Organization, branch: Branch) -> None:
    owner = make_patient(org)
    child = make_patient(org, first_name="Olga", phones=["+7 916 000-00-01"])
    other = make_patient(org, first_name="Petr", phones=["+7 916 000-00-02"])
    laser = make_service(org, code="laser", price="12000.00", category="laser")
    plan = _fee_plan(org, shareable=True)
    membership_sell(org=org, actor=None, patient=owner, plan=plan, members=[child])  # type: ignore[arg-type]
    now = timezone.now()
    got = membership_discounts(org=org, patient=child, currency="RUB", lines=[_line(laser)], at=now)
    assert [(d.position, d.amount) for d in got] == [(1, Decimal("1200.00"))]
    assert membership_discounts(org=org, patient=other, currency="RUB", lines=[_line(laser)], at=now) == []
    private = _fee_plan(org, code="solo", shareable=False)
    with pytest.raises(ValidationFailed) as err:
        membership_sell(org=org, actor=None, patient=owner, plan=private, members=[child])  # type: ignore[arg-type]
    assert "members" in err.value.fields


def test_freeze_within_the_plan_moves_the_end_and_stops_benefits(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    laser = make_service(org, code="laser", price="12000.00", category="laser")
    m = membership_sell(org=org, actor=None, patient=patient, plan=_fee_plan(org))  # type: ignore[arg-type]
    end = m.ends_at
    with pytest.raises(ValidationFailed) as err:
        membership_freeze(org=org, actor=None, membership=m, days=31)
    assert "days" in err.value.fields
    frozen = membership_freeze(org=org, actor=None, membership=m, days=20)
    assert frozen.ends_at == end + dt.timedelta(days=20)
    lines = [_line(laser)]
    assert (
        membership_discounts(org=org, patient=patient, currency="RUB", lines=lines, at=timezone.now()) == []
    )
    later = timezone.now() + dt.timedelta(days=21)
    got = membership_discounts(org=org, patient=patient, currency="RUB", lines=lines, at=later)
    assert [d.amount for d in got] == [Decimal("1200.00")]
    with freeze_time(later), pytest.raises(ValidationFailed):
        membership_freeze(org=org, actor=None, membership=frozen, days=11)


def test_renew_starts_at_the_old_end_once(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    m = membership_sell(org=org, actor=None, patient=patient, plan=_fee_plan(org))  # type: ignore[arg-type]
    again = membership_renew(org=org, actor=None, membership=m)
    assert again.starts_at == m.ends_at and again.renewed_from_id == m.pk
    assert patient_balance(org, patient, "prepaid") == Decimal("73000.00")
    with pytest.raises(Conflict):
        membership_renew(org=org, actor=None, membership=m)


def test_stored_value_plan_sale_and_cancel_refunds_money_only(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    m = membership_sell(org=org, actor=None, patient=patient, plan=make_plan(org))
    assert patient_balance(org, patient, "money") == Decimal("50000.00")
    assert patient_balance(org, patient, "bonus") == Decimal("5000.00")
    done = membership_cancel(org=org, actor=None, membership=m)
    assert done.refund == Decimal("50000.00")
    assert patient_balance(org, patient, "money") == Decimal(0)
    assert ledger_verify(org=org).ok


def test_a_withdrawn_plan_is_not_sold(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    plan = _fee_plan(org, available_until=dt.date(2020, 1, 1))
    with pytest.raises(ValidationFailed) as err:
        membership_sell(org=org, actor=None, patient=patient, plan=plan)  # type: ignore[arg-type]
    assert "plan" in err.value.fields
    assert not Posting.objects.for_org(org).exists()


def test_a_released_included_procedure_can_be_used_again(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    peel = make_service(org, code="peel", price="3000.00", category="peels")
    m = membership_sell(org=org, actor=None, patient=patient, plan=_fee_plan(org))  # type: ignore[arg-type]
    now = timezone.now()
    used = use_included(
        org=org, actor=None, patient=patient, currency="RUB", line=_line(peel), membership=str(m.pk),
        invoice_ref="inv-1", at=now,
    )  # fmt: skip
    release_included(org=org, actor=None, patient=patient, use_reference=used.reference, invoice_ref="inv-1")
    later = timezone.now()
    assert len(included_covers(org=org, patient=patient, currency="RUB", lines=[_line(peel)], at=later)) == 1
