"""The appointment page's payment form is filled with what is left to pay, not the full price again."""

from __future__ import annotations

import re
from decimal import Decimal

from clinicflow.booking import services
from clinicflow.booking.models import PaymentKind
from clinicflow.booking.tests.conftest import Clinic
from clinicflow.booking.tests.factories import local, next_weekday
from clinicflow.core.money import Money

AMOUNT = re.compile(r'<input name="amount"[^>]*value="([^"]*)"')


def _prefilled(web, appt) -> str:  # type: ignore[no-untyped-def]
    page = web("frontdesk").get(f"/booking/a/{appt.pk}/").content.decode()
    found = AMOUNT.search(page)
    assert found is not None
    return found.group(1)


def _pay(c: Clinic, appt, amount: str, kind: str = PaymentKind.PAYMENT) -> None:  # type: ignore[no-untyped-def]
    services.payment_record(
        org=c.org,
        actor=None,
        patient=c.patient,
        branch=c.branch,
        amount=Money.of(amount, appt.currency),
        method="card",
        appointment=appt,
        kind=kind,
    )


def test_the_payment_form_offers_what_is_left_to_pay(clinic: Clinic, web) -> None:  # type: ignore[no-untyped-def]
    appt = services.appointment_book(
        org=clinic.org,
        actor=None,
        branch=clinic.branch,
        patient=clinic.patient,
        service=clinic.laser,
        doctor=clinic.doctor,
        start=local(clinic.branch, next_weekday(0), 10),
    )
    assert Decimal(_prefilled(web, appt)) == appt.price
    _pay(clinic, appt, str(appt.price - 1000))
    assert Decimal(_prefilled(web, appt)) == Decimal(1000)
    _pay(clinic, appt, "1000")
    assert _prefilled(web, appt) == ""  # fully paid: nothing offered
    _pay(clinic, appt, "400", PaymentKind.REFUND)
    assert Decimal(_prefilled(web, appt)) == Decimal(400)
