"""Every marketing route that takes an id answers 404 for another organisation's object and shows
none of its values (until these ids are in the core tenant matrix's ``_FILL``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client

from clinicflow.catalogue.product_services import ItemIn, product_create
from clinicflow.catalogue.tests.factories import make_service
from clinicflow.core.models import Organization
from clinicflow.core.money import Money
from clinicflow.marketing.services import campaigns
from clinicflow.marketing.services.audiences import audience_create
from clinicflow.marketing.services.offers import OfferData, offer_create

pytestmark = pytest.mark.django_db


def test_another_organisations_objects_are_404(api: Callable[[str], Client], other_org: Organization) -> None:
    import datetime as dt

    service = make_service(other_org)
    product = product_create(
        org=other_org, actor=None, code="p", name="Secret product", price=Money.of("1", "CNY"),
        items=[ItemIn(service_id=str(service.pk))],
    )  # fmt: skip
    offer = offer_create(
        org=other_org, actor=None,
        data=OfferData(name="Secret offer", kind="percent", percent=Decimal(10),
                       valid_from=dt.date.today(), valid_to=dt.date.today()),
    )  # fmt: skip
    audience = audience_create(org=other_org, actor=None, name="Secret audience", filters={})
    campaign = campaigns.campaign_create(
        org=other_org, actor=None, name="Secret campaign", audience=audience, channel="sms",
        variants=[campaigns.VariantIn("Secret", "Secret")],
    )  # fmt: skip
    client = api("owner")
    body = json.dumps({"body": "x", "count": 1})
    for method, url in (
        ("GET", f"/api/v1/offers/{offer.pk}"),
        ("POST", f"/api/v1/offers/{offer.pk}/coupons"),
        ("GET", f"/api/v1/audiences/{audience.pk}"),
        ("GET", f"/api/v1/marketing/campaigns/{campaign.pk}"),
        ("POST", f"/api/v1/marketing/campaigns/{campaign.pk}/queue"),
        ("GET", f"/api/v1/products/{product.pk}"),
        ("PUT", f"/api/v1/products/{product.pk}/document/parts/faq"),
        ("POST", f"/api/v1/products/{product.pk}/document/versions"),
        ("GET", f"/api/v1/products/{product.pk}/document.pdf"),
    ):
        r = client.generic(method, url, body, content_type="application/json")
        assert r.status_code == 404, (method, url, r.status_code)
        assert "Secret" not in r.content.decode()
