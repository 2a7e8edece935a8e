"""The wallet page: balances and ledger lines for staff with ``wallet.view``; 403 for other roles;
404 for another organisation's patient; a pinned number of queries."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.services.wallet import wallet_spend, wallet_top_up
from clinicflow.ledger.tests.factories import make_patient, make_plan, make_program

pytestmark = pytest.mark.django_db


def test_the_wallet_page_shows_balances_and_lines(
    web: Callable[[str], Client], org: Organization, branch: Branch
) -> None:
    make_program(org)
    patient = make_patient(org, branch=branch)
    wallet_top_up(org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=make_plan(org))
    wallet_spend(org=org, actor=None, patient=patient, amount="6000", currency="RUB")
    response = web("frontdesk").get(f"/ledger/patients/{patient.pk}/wallet/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="wallet-balances"' in html
    assert "Bonus balance" in html
    # the header, the top-up's two lines (money, bonus), the spend's three (bonus, money, points)
    assert html.count("<tr>") == 1 + 2 + 3
    assert html.count("Payment from balance") == 3


def test_the_wallet_page_needs_wallet_view(
    web: Callable[[str], Client], org: Organization, branch: Branch
) -> None:
    patient = make_patient(org, branch=branch)
    assert web("marketer").get(f"/ledger/patients/{patient.pk}/wallet/").status_code == 403
    assert web("doctor").get(f"/ledger/patients/{patient.pk}/wallet/").status_code == 403
    assert web("manager").get(f"/ledger/patients/{patient.pk}/wallet/").status_code == 200


def test_another_organisations_patient_is_a_404(
    web: Callable[[str], Client], org: Organization, other_org: Organization, branch: Branch
) -> None:
    stranger = make_patient(other_org)
    assert web("owner").get(f"/ledger/patients/{stranger.pk}/wallet/").status_code == 404


def test_the_wallet_page_runs_a_fixed_number_of_queries(
    web: Callable[[str], Client], org: Organization, branch: Branch
) -> None:
    make_program(org)
    patient = make_patient(org, branch=branch)
    client = web("frontdesk")
    wallet_top_up(org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=make_plan(org))
    client.get(f"/ledger/patients/{patient.pk}/wallet/")
    with CaptureQueriesContext(connection) as few:
        client.get(f"/ledger/patients/{patient.pk}/wallet/")
    for i in range(5):
        wallet_spend(org=org, actor=None, patient=patient, amount=str(100 + i), currency="RUB")
    with CaptureQueriesContext(connection) as more:
        assert client.get(f"/ledger/patients/{patient.pk}/wallet/").status_code == 200
    assert len(more.captured_queries) == len(few.captured_queries)
