"""The wallet API lists the patient's memberships: plan, kind, status now, the current benefit period,
the included procedures left in it and the end of the term (the OpenAPI schema says so too)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client

from clinicflow.catalogue.tests.factories import make_service
from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import BenefitKind, MembershipUse, PlanKind
from clinicflow.ledger.services.memberships import membership_sell
from clinicflow.ledger.tests.factories import make_patient, make_plan

pytestmark = pytest.mark.django_db
Api = Callable[[str], Client]


def _ms(moment: dt.datetime) -> dt.datetime:
    """As the API writes moments: to the millisecond."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def test_the_wallet_lists_memberships_with_the_procedures_left(
    api: Api, org: Organization, branch: Branch
) -> None:
    peel = make_service(org, code="peel", price="3000.00", category="peels")
    plan = make_plan(
        org, code="gold-m", kind=PlanKind.FEE, name="Gold monthly", price=Decimal("12000"), credit=None,
        bonus_valid_days=None, period="month", duration_days=360, included={"peel": 2, "laser": 1},
    )  # fmt: skip
    patient = make_patient(org)
    m = membership_sell(org=org, actor=None, patient=patient, plan=plan)
    start = _ms(m.starts_at)
    MembershipUse.objects.create(
        organization=org, membership=m, patient=patient, service=peel, kind=BenefitKind.INCLUDED,
        list_price=Decimal(3000), value=Decimal(3000), used_at=m.starts_at,
    )  # fmt: skip
    body = api("frontdesk").get(f"/api/v1/patients/{patient.pk}/wallet").json()
    assert len(body["memberships"]) == 1
    got = body["memberships"][0]
    now = dt.datetime.now(dt.UTC)
    months = int((now - start) / dt.timedelta(days=30))
    period_start = start + dt.timedelta(days=30 * months)
    assert {k: got[k] for k in ("id", "plan", "plan_name", "kind", "status", "period", "shared")} == {
        "id": str(m.pk),
        "plan": "gold-m",
        "plan_name": "Gold monthly",
        "kind": "fee",
        "status": "active",
        "period": "month",
        "shared": False,
    }
    assert dt.datetime.fromisoformat(got["period_starts_at"]) == period_start
    assert dt.datetime.fromisoformat(got["period_ends_at"]) == period_start + dt.timedelta(days=30)
    assert dt.datetime.fromisoformat(got["expires_at"]) == _ms(m.ends_at) == start + dt.timedelta(days=360)
    assert got["included"] == [
        {"service": "laser", "per_period": 1, "used": 0, "remaining": 1},
        {"service": "peel", "per_period": 2, "used": 1, "remaining": 1},
    ]
    assert got["currency"] == "RUB" and Decimal(got["prepaid_left"]) <= Decimal(12000)
    # another organisation's patient: 404, nothing listed
    assert api("outsider").get(f"/api/v1/patients/{patient.pk}/wallet").status_code == 404


def test_the_openapi_document_describes_the_wallet_memberships(api: Api, org: Organization) -> None:
    doc = api("owner").get("/api/v1/openapi.json").json()
    schemas = doc["components"]["schemas"]
    items = schemas["WalletOut"]["properties"]["memberships"]["items"]
    assert items == {"$ref": "#/components/schemas/WalletMembershipOut"}
    props = schemas["WalletMembershipOut"]["properties"]
    for name in ("plan", "kind", "status", "period", "period_starts_at", "expires_at", "included"):
        assert name in props, name
    assert set(schemas["IncludedLeftOut"]["properties"]) == {"service", "per_period", "used", "remaining"}
