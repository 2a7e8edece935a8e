"""Marketing pages: the manager's path (an offer with a batch of codes, an audience with its live count,
a campaign queued), the calendar's year and month views with the usual dates and the iCalendar export,
product documents edited and published, and their FAQ and pricing on the front desk's call screen."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client

from clinicflow.acquisition.models import Call
from clinicflow.catalogue.models import Product
from clinicflow.catalogue.product_services import ItemIn, product_create
from clinicflow.catalogue.tests.factories import make_service
from clinicflow.core.models import Branch, Organization
from clinicflow.core.money import Money
from clinicflow.marketing.models import Audience, CalendarEvent, Campaign, Coupon, Offer, Recipient
from clinicflow.marketing.models.documents import DocumentPart
from clinicflow.marketing.tests.factories import patient

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()
Web = Callable[[str], Client]

PAGES = [
    "/marketing/calendar/",
    "/marketing/calendar/?month=3",
    "/marketing/offers/",
    "/marketing/offers/new/",
    "/marketing/audiences/",
    "/marketing/audiences/new/",
    "/marketing/campaigns/",
    "/marketing/campaigns/new/",
    "/marketing/documents/",
    "/products/",
]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize(("role", "allowed"), [("marketer", True), ("manager", True), ("doctor", False)])
def test_pages_answer_by_role(web: Web, org: Organization, path: str, role: str, allowed: bool) -> None:
    code = web(role).get(path).status_code
    if path == "/products/":
        assert code == 200  # every role reads the catalogue
    else:
        assert code == (200 if allowed else 403)


def test_the_manager_makes_an_offer_codes_an_audience_and_a_campaign(web: Web, org: Organization) -> None:
    client = web("marketer")
    for n in range(6):
        patient(org, n, granted=n % 3 != 0)  # 4 of 6 agreed to SMS marketing
    bad = client.post(
        "/marketing/offers/new/",
        {"name": "Bad", "kind": "percent", "percent": "120", "valid_from": TODAY, "valid_to": TODAY,
         "patient_kind": "any", "per_patient_limit": 1},
    )  # fmt: skip
    assert bad.status_code == 422 and "percent" in bad.content.decode()
    assert not Offer.objects.for_org(org).exists()
    made = client.post(
        "/marketing/offers/new/",
        {"name": "Spring", "kind": "percent", "percent": "15", "valid_from": TODAY,
         "valid_to": TODAY + dt.timedelta(days=30), "patient_kind": "any", "per_patient_limit": 1},
    )  # fmt: skip
    offer = Offer.objects.for_org(org).get()
    assert made.status_code == 302 and made["Location"].endswith(f"/marketing/offers/{offer.pk}/")
    codes = client.post(f"/marketing/offers/{offer.pk}/coupons/", {"count": 25})
    assert codes.status_code == 200 and codes["Content-Type"].startswith("text/csv")
    assert Coupon.objects.for_org(org).filter(offer=offer, single_use=True).count() == 25
    assert len(codes.content.decode().strip().splitlines()) == 26
    live = client.get("/marketing/audiences/count/", {"channel": "sms"})
    assert live.status_code == 200 and "4 patients" in live.content.decode()
    unknown = client.get("/marketing/audiences/count/", {"sex": "x"})
    assert "patients" not in unknown.content.decode()
    saved = client.post("/marketing/audiences/new/", {"name": "SMS agreed", "channel": "sms"})
    assert saved.status_code == 302
    audience = Audience.objects.for_org(org).get()
    assert audience.filters == {"channel": "sms"}
    assert "SMS agreed" in client.get("/marketing/audiences/").content.decode()
    created = client.post(
        "/marketing/campaigns/new/",
        {"name": "Spring SMS", "audience": audience.pk, "channel": "sms", "offer": offer.pk,
         "holdout_percent": 0, "cost": "0", "days_ahead": 0, "per_minute": 200,
         "headline_a": "Spring", "text_a": "15% off", "headline_b": "Spring B", "text_b": "Come back"},
    )  # fmt: skip
    campaign = Campaign.objects.for_org(org).get()
    assert created.status_code == 302
    queued = client.post(f"/marketing/campaigns/{campaign.pk}/queue/")
    assert queued.status_code == 302
    assert Recipient.objects.for_org(org).filter(campaign=campaign).count() == 4
    page = client.get(f"/marketing/campaigns/{campaign.pk}/").content.decode()
    assert "campaign-results" in page and "Sending" in page


def test_the_calendar_year_month_usual_dates_and_export(web: Web, org: Organization, branch: Branch) -> None:
    client = web("marketer")
    year = TODAY.year
    assert client.post("/marketing/calendar/usual-dates/", {"region": "RU", "year": year}).status_code == 302
    assert CalendarEvent.objects.for_org(org).filter(starts_on__year=year).count() == 11
    bad = client.post(
        "/marketing/calendar/new/",
        {"title": "Launch", "kind": "launch", "starts_on": f"{year}-03-10", "ends_on": f"{year}-03-01",
         "budget": "100", "actual_cost": "0", "status": "planned"},
    )  # fmt: skip
    assert bad.status_code == 422 and "ends_on" in bad.content.decode()
    ok = client.post(
        "/marketing/calendar/new/",
        {"title": "Laser launch", "kind": "launch", "starts_on": f"{year}-03-10", "ends_on": f"{year}-03-12",
         "budget": "50000", "actual_cost": "42000", "status": "planned", "branch": branch.pk},
    )  # fmt: skip
    assert ok.status_code == 302
    year_view = client.get("/marketing/calendar/", {"year": year}).content.decode()
    assert "Laser launch" in year_view and "International Women" in year_view
    month = client.get("/marketing/calendar/", {"year": year, "month": 3}).content.decode()
    assert "calendar-month" in month and "Laser launch" in month and "Victory Day" not in month
    ics = client.get("/marketing/calendar/export.ics", {"year": year, "month": 3})
    assert ics["Content-Type"] == "text/calendar" and b"Laser launch" in ics.content
    assert b"Victory Day" not in ics.content


def _product(org: Organization) -> tuple[Product, object]:
    laser = make_service(org)
    product = product_create(
        org=org, actor=None, code="course", name="Laser course", price=Money.of("45000", "RUB"),
        items=[ItemIn(service_id=str(laser.pk), sessions=4)],
    )  # fmt: skip
    return product, laser


def test_a_document_is_written_published_and_read_at_the_front_desk(
    web: Web, org: Organization, branch: Branch
) -> None:
    product, laser = _product(org)
    client = web("marketer")
    base = f"/marketing/documents/{product.pk}"
    for part in DocumentPart.values:
        body = {"faq": "Q: Does it hurt? A: Barely.", "pricing": "4 sessions for 45000"}.get(
            part, f"Text {part}"
        )
        r = client.post(f"{base}/parts/{part}/", {f"{part}-body": body, f"{part}-owner": "marketing",
                                                  f"{part}-status": "reviewed"})  # fmt: skip
        assert r.status_code == 302
    assert client.post(f"{base}/publish/").status_code == 302
    assert client.get(f"{base}/document.pdf").content.startswith(b"%PDF")
    call = Call.objects.create(
        organization=org, provider="generic", provider_call_id="c1", branch=branch, caller_e164="+79161112233",
        started_at=dt.datetime.now(dt.UTC), status="completed", status_rank=3,
    )  # fmt: skip
    desk = web("frontdesk").get(f"/acquisition/calls/{call.pk}/", {"service": laser.pk})  # type: ignore[attr-defined]
    text = desk.content.decode()
    assert desk.status_code == 200 and "Does it hurt" in text and "4 sessions for 45000" in text


def test_packaged_products_and_lines_are_edited_on_pages(web: Web, org: Organization) -> None:
    laser = make_service(org)
    client = web("manager")
    assert client.post("/products/lines/new/", {"code": "laser", "name": "Laser"}).status_code == 302
    r = client.post(
        "/products/new/",
        {"code": "pack", "name": "Laser pack", "price": "30000", "currency": "RUB", "valid_days": 365,
         "is_active": "on", "service_0": laser.pk, "sessions_0": 3},
    )  # fmt: skip
    assert r.status_code == 302
    product = Product.objects.for_org(org).get(code="pack")
    assert [(i.service_id, i.sessions) for i in product.items.all()] == [(laser.pk, 3)]
    dup = client.post(
        "/products/new/",
        {
            "code": "pack",
            "name": "Again",
            "price": "1",
            "currency": "RUB",
            "valid_days": 365,
            "service_0": laser.pk,
        },
    )
    assert dup.status_code == 422 and Product.objects.for_org(org).count() == 1
    assert web("frontdesk").get("/products/new/").status_code == 403
