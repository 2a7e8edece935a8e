"""The per-request work of the wallet API (issue #16 speed): what each call reads and writes, with
the rules that made the removed reads unnecessary still enforced."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.models import AuditEvent, Branch, Organization
from clinicflow.ledger.models import AccountKind, IdempotencyKey, TxKind
from clinicflow.ledger.services.inputs import clean_currency
from clinicflow.ledger.services.journal import Leg, accounts_of, lock, post
from clinicflow.ledger.services.lots import open_lots, take_from_lots
from clinicflow.ledger.services.wallet import wallet_spend, wallet_top_up
from clinicflow.ledger.tests.factories import make_patient, make_plan, make_program, patient_balance

pytestmark = pytest.mark.django_db
Api = Callable[[str], Client]


def _posting_reads(sql: list[str]) -> int:
    return sum(1 for q in sql if q.startswith("SELECT") and 'FROM "ledger_posting"' in q)


def test_a_spend_reads_the_lots_once(org: Organization) -> None:
    """``take_from_lots`` reads the lots under the account's lock; ``post`` trusts what they had
    left instead of reading them again (was: one more query per spend from the bonus)."""
    make_program(org)
    patient = make_patient(org)
    plan = make_plan(org)
    wallet_top_up(org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=plan)
    wallet_spend(org=org, actor=None, patient=patient, amount="100", currency="RUB", category="laser")
    with CaptureQueriesContext(connection) as ctx:
        wallet_spend(org=org, actor=None, patient=patient, amount="7000", currency="RUB", category="laser")
    assert _posting_reads([q["sql"] for q in ctx.captured_queries]) == 1
    assert patient_balance(org, patient, "bonus") == Decimal(0)
    assert patient_balance(org, patient, "money") == Decimal(50000 - 2100)


def test_post_still_refuses_more_than_a_lot_has(org: Organization) -> None:
    """With or without what the caller read, a leg never takes more than its lot has left."""
    patient = make_patient(org)
    plan = make_plan(org)
    for _ in range(2):  # two lots of 5,000: the balance (10,000) allows more than one lot has
        wallet_top_up(org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=plan)
    acc = accounts_of(
        org=org, patient=patient, wanted=[(AccountKind.BONUS, "RUB"), (AccountKind.REVENUE, "RUB")]
    )
    bonus, revenue = acc[(AccountKind.BONUS, "RUB")], acc[(AccountKind.REVENUE, "RUB")]
    with transaction.atomic():
        locked = lock([bonus])
        lots = open_lots(org=org, account=locked[bonus.pk])
        assert [left for _, left in lots] == [Decimal(5000), Decimal(5000)]
        [leg] = take_from_lots(org=org, account=locked[bonus.pk], amount=Decimal(3000))
        assert (leg.lot, leg.lot_left) == (lots[0][0], Decimal(5000))
    lot = lots[0][0]
    # not told: read from the journal (5,000 < 6,000); told 4,000: refused without reading
    for take, told in ((Decimal(6000), None), (Decimal(4500), Decimal(4000))):
        with pytest.raises(Conflict, match="already used"), transaction.atomic():
            locked = lock([bonus])
            legs = [Leg(bonus, -take, lot=lot, lot_left=told), Leg(revenue, take)]
            post(org=org, kind=TxKind.SPEND, legs=legs, locked=locked)
    assert patient_balance(org, patient, "bonus") == Decimal(10000)


def test_the_clinics_own_currency_is_checked_without_a_query(org: Organization, branch: Branch) -> None:
    with CaptureQueriesContext(connection) as ctx:
        assert clean_currency(org, "rub") == "RUB"
    assert len(ctx.captured_queries) == 0
    Branch.objects.filter(pk=branch.pk).update(currency="KZT")
    assert clean_currency(org, "KZT") == "KZT"  # a branch's currency: read from the branches
    with pytest.raises(ValidationFailed):
        clean_currency(org, "USD")


def _spend(client: Client, patient_id: object, key: str, amount: str = "10") -> object:
    return client.post(
        f"/api/v1/patients/{patient_id}/wallet/spend",
        json.dumps({"amount": amount, "currency": "RUB"}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_a_spend_through_the_api_claims_its_key_in_one_statement(api: Api, org: Organization) -> None:
    """The key row is claimed without a savepoint around a failing insert on PostgreSQL (``INSERT ...
    ON CONFLICT DO NOTHING``); the same key still replays, another request with it is still a 409."""
    patient = make_patient(org)
    wallet_top_up(org=org, actor=None, patient=patient, amount="1000", currency="RUB")
    client = api("frontdesk")
    key = str(uuid.uuid4())
    with CaptureQueriesContext(connection) as ctx:
        first = _spend(client, patient.pk, key)
    assert first.status_code == 201, first.content  # type: ignore[attr-defined]
    sql = [q["sql"] for q in ctx.captured_queries]
    claims = [
        i for i, q in enumerate(sql) if "ledger_idempotencykey" in q and q.lstrip().startswith("INSERT")
    ]
    assert len(claims) == 1
    if connection.vendor == "postgresql":
        assert "ON CONFLICT" in sql[claims[0]]
        # (was: SAVEPOINT, INSERT, RELEASE SAVEPOINT, and a rollback to it when the key existed)
        assert not sql[claims[0] + 1].startswith("RELEASE SAVEPOINT")
    again = _spend(client, patient.pk, key)
    assert again.status_code == 201 and again.json() == first.json()  # type: ignore[attr-defined]
    other = _spend(client, patient.pk, key, amount="20")
    assert other.status_code == 409  # type: ignore[attr-defined]
    assert IdempotencyKey.objects.for_org(org).filter(key=key).count() == 1
    assert patient_balance(org, patient, "money") == Decimal(990)


def test_the_wallet_read_is_audited_in_few_statements(api: Api, org: Organization) -> None:
    """Reading a wallet is still audited (and chained); the memberships shared with the patient are
    a subquery, not a query of their own."""
    patient = make_patient(org)
    wallet_top_up(org=org, actor=None, patient=patient, amount="1000", currency="RUB")
    client = api("frontdesk")
    assert client.get(f"/api/v1/patients/{patient.pk}/wallet").status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(f"/api/v1/patients/{patient.pk}/wallet")
    assert r.status_code == 200
    sql = [q["sql"] for q in ctx.captured_queries]
    assert sum(1 for q in sql if 'FROM "ledger_membershipmember"' in q) == 1
    assert not any(q.startswith('SELECT "ledger_membershipmember"') for q in sql)
    event = AuditEvent.objects.for_org(org).filter(object_type="wallet", object_id=str(patient.pk)).last()
    assert event is not None and event.action == "view"
    if connection.vendor == "postgresql":
        # token, patient, the audit row (chain head, then the row with its link), memberships, accounts
        assert len([q for q in sql if q not in ("BEGIN", "COMMIT")]) <= 7, "\n".join(q[:100] for q in sql)
