"""Product documents: seven parts with owners and statuses, versioned publication, a printable PDF."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.test import Client

from clinicflow.catalogue.product_services import ItemIn, product_create
from clinicflow.catalogue.tests.factories import make_service
from clinicflow.core.models import Organization
from clinicflow.core.money import Money
from clinicflow.marketing.models import ProductDocumentVersion
from clinicflow.marketing.models.documents import DocumentPart

pytestmark = pytest.mark.django_db


def test_a_document_is_published_as_versions_and_printed(
    api: Callable[[str], Client], org: Organization
) -> None:
    laser = make_service(org)
    product = product_create(
        org=org, actor=None, code="course", name="Laser course", price=Money.of("45000", "RUB"),
        items=[ItemIn(service_id=str(laser.pk), sessions=4)],
    )  # fmt: skip
    client = api("marketer")
    base = f"/api/v1/products/{product.pk}/document"

    def put(part: str, **body: str) -> object:
        return client.put(f"{base}/parts/{part}", json.dumps(body), content_type="application/json")

    bad = put("horoscope", body="x")
    assert bad.status_code == 422 and "part" in bad.json()["error"]["fields"]
    for part in DocumentPart.values:
        assert put(part, body=f"Текст {part} 中文", status="reviewed").status_code == 200
    put("faq", body="Draft FAQ")  # back to draft
    refused = client.post(f"{base}/versions", "{}", content_type="application/json")
    assert refused.status_code == 422 and "faq" in refused.json()["error"]["fields"]
    assert not ProductDocumentVersion.objects.for_org(org).exists()
    put("faq", body="Q: Does it hurt? A: Little.", status="reviewed")
    first = client.post(f"{base}/versions", "{}", content_type="application/json")
    assert first.status_code == 201 and first.json()["number"] == 1
    assert put("pricing", body="New prices").json()["owner"] == "finance"
    put("pricing", body="New prices", status="reviewed")
    assert client.post(f"{base}/versions", "{}", content_type="application/json").json()["number"] == 2
    v1 = ProductDocumentVersion.objects.for_org(org).get(number=1)
    assert "New prices" not in json.dumps(v1.parts)  # a published version never changes
    pdf = client.get(f"{base}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert api("frontdesk").get(f"{base}.pdf").status_code == 403
