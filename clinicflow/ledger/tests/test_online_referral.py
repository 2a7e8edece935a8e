"""A friend's link (``/book/<branch>/?ref=CODE``) through the public booking steps: the code is kept in
the slot links, the details form and the code page's address, and the new patient is linked to the
referrer by the ledger's referral service (booking holds the hook, the ledger registers into it). An
unknown or malformed code books all the same and links nobody."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client

from clinicflow.booking.models import Appointment, BookingCode
from clinicflow.booking.referrals import clean_ref
from clinicflow.booking.tests.conftest import Clinic, _counters_in_the_test_database, clinic
from clinicflow.core.onetime import one_time_code
from clinicflow.ledger.models import Referral
from clinicflow.ledger.services.referrals import referral_code_for

pytestmark = pytest.mark.django_db
__all__ = ["_counters_in_the_test_database", "clinic"]  # the booking tests' fixtures, used here


def _book(c: Clinic, ref: str, phone: str = "8 916 555-44-33") -> tuple[Any, str]:
    """The patient's steps as the pages link them; (the last response, the details page's HTML)."""
    client = Client()
    first = client.get(f"/book/{c.branch.pk}/", {"ref": ref, "service": str(c.laser.pk)})
    assert first.status_code == 200
    slots = re.findall(r'class="slot" href="([^"]+)"', first.content.decode())
    assert slots, "no free slot shown"
    details_url = html.unescape(slots[0])
    details = client.get(details_url)
    assert details.status_code == 200
    page = details.content.decode()
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    form.pop("csrfmiddlewaretoken", None)
    form.update(first_name="Maria", last_name="Kuznetsova", phone=phone, channel="sms")
    sent = client.post(f"/book/{c.branch.pk}/details/", form)
    assert sent.status_code == 302, sent.content
    confirm_url = sent["Location"]
    row = BookingCode.objects.latest("created_at")
    confirm = client.get(confirm_url)
    assert confirm.status_code == 200
    done = client.post(confirm_url, {"code": one_time_code(str(row.pk))})
    return done, page + f"\n<!-- {details_url} {confirm_url} -->"


def test_a_friend_booking_through_the_link_is_linked_to_the_referrer(clinic: Clinic) -> None:
    code = referral_code_for(org=clinic.org, patient=clinic.patient).code
    done, trail = _book(clinic, code.lower())
    assert done.status_code == 302 and "/book/manage/" in done["Location"]
    assert f"ref={code}" in trail  # in the slot link and the code page's address
    assert f'name="ref" value="{code}"' in trail  # the details form's hidden field
    appt = Appointment.objects.for_org(clinic.org).get()
    referral = Referral.objects.for_org(clinic.org).get()
    assert (referral.referrer_id, referral.referred_id, referral.code) == (
        clinic.patient.pk,
        appt.patient_id,
        code,
    )
    assert referral.status == "pending"


def test_an_unknown_or_malformed_code_books_and_links_nobody(clinic: Clinic) -> None:
    done, trail = _book(clinic, "NOSUCH99")
    assert done.status_code == 302
    assert Appointment.objects.for_org(clinic.org).count() == 1
    assert Referral.objects.count() == 0
    assert clean_ref("<script>") == "" and clean_ref(" ab12cd34 ") == "AB12CD34"
    bad = {"ref": '"><b>x</b>', "service": str(clinic.laser.pk)}
    page = Client().get(f"/book/{clinic.branch.pk}/", bad).content.decode()
    assert 'class="slot"' in page and "&amp;ref=" not in page and "<b>x" not in page


def test_the_referrer_booking_with_their_own_code_is_not_linked(clinic: Clinic) -> None:
    code = referral_code_for(org=clinic.org, patient=clinic.patient).code
    # the referrer's own phone: the verified contact matches them, a self-referral
    done, _trail = _book(clinic, code, phone="+79161234567")
    assert done.status_code == 302
    assert Appointment.objects.for_org(clinic.org).get().patient_id == clinic.patient.pk
    assert Referral.objects.count() == 0
