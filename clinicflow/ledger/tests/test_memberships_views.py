"""Staff membership pages (sell once per form, freeze, cancel; plans for managers) and the patient's
secure-link page (their language, expiry, unknown tokens, rate limit)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import Membership, PatientLink
from clinicflow.ledger.services.memberships import membership_sell
from clinicflow.ledger.services.patient_links import patient_link_create
from clinicflow.ledger.services.points import points_earn
from clinicflow.ledger.tests.factories import make_patient, make_plan, make_program

pytestmark = pytest.mark.django_db
Web = Callable[[str], Client]


def test_frontdesk_sells_once_per_form_and_cancels(web: Web, org: Organization, branch: Branch) -> None:
    patient = make_patient(org, branch=branch)
    make_plan(org, code="gold", kind="fee", name="Gold", price="12000", credit=None, period="month")
    desk = web("frontdesk")
    page = desk.get(f"/ledger/patients/{patient.pk}/memberships/")
    assert page.status_code == 200 and 'id="sell-form"' in page.content.decode()
    url = f"/ledger/patients/{patient.pk}/memberships/do/"
    for _ in range(2):  # a double submit of the same form
        desk.post(url, {"action": "sell", "plan": "gold", "form_key": "form-1"})
    assert Membership.objects.for_org(org).count() == 1
    m = Membership.objects.for_org(org).get()
    html = desk.get(f"/ledger/patients/{patient.pk}/memberships/").content.decode()
    assert "Gold" in html and "Cancel with refund" in html
    desk.post(url, {"action": "cancel", "membership": str(m.pk)})
    m.refresh_from_db()
    assert m.status == "cancelled"


def test_doctors_do_not_see_memberships_and_plans_are_for_managers(
    web: Web, org: Organization, branch: Branch
) -> None:
    patient = make_patient(org, branch=branch)
    assert web("doctor").get(f"/ledger/patients/{patient.pk}/memberships/").status_code == 403
    assert web("frontdesk").get("/ledger/plans/").status_code == 403
    manager = web("manager")
    assert manager.get("/ledger/plans/").status_code == 200
    bad = manager.post("/ledger/plans/new/", {"kind": "fee", "code": "x", "name": "X", "currency": "RUB"})
    assert bad.status_code == 422 and "price" in bad.content.decode()
    ok = manager.post(
        "/ledger/plans/new/",
        {"kind": "fee", "code": "silver", "name": "Silver", "currency": "RUB", "price": "9000",
         "period": "month", "disc_laser": "5", "freezable_days": "10", "is_active": "on"},
    )  # fmt: skip
    assert ok.status_code == 302
    assert "Silver" in manager.get("/ledger/plans/").content.decode()
    assert manager.get("/ledger/plans/silver/").status_code == 200


def test_the_patient_page_in_their_language(client: Client, org: Organization, branch: Branch) -> None:
    cache.clear()
    make_program(org)
    patient = make_patient(org, branch=branch, preferred_language="ru")
    membership_sell(org=org, actor=None, patient=patient, plan=make_plan(org))
    points_earn(org=org, actor=None, patient=patient, paid="10000", currency="RUB")
    _link, token = patient_link_create(org=org, actor=None, patient=patient)
    r = client.get(f"/my/{token}/")
    assert r.status_code == 200, r.content
    html = r.content.decode()
    assert 'id="my-referral"' in html and "/book/" in html and "?ref=" in html
    assert 'lang="ru"' in html
    assert r["Cache-Control"] == "no-store"


def test_expired_and_unknown_links_get_a_clear_404_and_misses_are_limited(
    client: Client, org: Organization, branch: Branch
) -> None:
    cache.clear()
    patient = make_patient(org, branch=branch)
    link, token = patient_link_create(org=org, actor=None, patient=patient)
    PatientLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert client.get(f"/my/{token}/").status_code == 404
    statuses = [client.get(f"/my/nope-{i}/").status_code for i in range(11)]
    assert statuses[:10] == [404] * 10 and statuses[10] == 429
