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
from clinicflow.ledger.models import AccountKind, IdempotencyKey, Posting, TxKind
from clinicflow.ledger.selectors.wallet import ledger_lines, wallet_get
from clinicflow.ledger.services.inputs import clean_currency
from clinicflow.ledger.services.journal import Leg, accounts_of, lock, post
from clinicflow.ledger.services.lots import open_lots, take_from_lots
from clinicflow.ledger.services.wallet import wallet_spend, wallet_top_up
from clinicflow.ledger.tests.factories import make_patient, make_plan, make_program, patient_balance
from clinicflow.patients.models import Patient

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


def _account_statements(sql: list[str]) -> list[str]:
    return [q for q in sql if q.lstrip().startswith(("SELECT", "WITH")) and "ledger_account" in q]


def test_a_spend_reads_and_locks_its_accounts_in_one_statement(org: Organization) -> None:
    """On PostgreSQL the patient's accounts are read ``FOR UPDATE`` with the clinic's beside them
    (not locked) in one statement (was: a read, then the lock); elsewhere a read, then the lock."""
    make_program(org)
    patient = make_patient(org)
    plan = make_plan(org)
    wallet_top_up(org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=plan)
    wallet_spend(org=org, actor=None, patient=patient, amount="100", currency="RUB", category="laser")
    with CaptureQueriesContext(connection) as ctx:
        wallet_spend(org=org, actor=None, patient=patient, amount="7000", currency="RUB", category="laser")
    reads = _account_statements([q["sql"] for q in ctx.captured_queries])
    if connection.vendor == "postgresql":
        [one] = reads
        locking, clinic = one.split("UNION ALL")
        assert "FOR UPDATE" in locking and "a.patient_id = " in locking
        assert "FOR UPDATE" not in clinic and "patient_id IS NULL" in clinic
    else:
        assert len(reads) == 2
    # bonus first (4,900 left of the lot after the first spend), then money; points on the money part
    assert patient_balance(org, patient, "bonus") == Decimal(0)
    assert patient_balance(org, patient, "money") == Decimal(50000 - 2100)
    assert patient_balance(org, patient, "points", "PTS") > 0


def test_a_first_top_up_creates_the_accounts_then_locks_them(org: Organization) -> None:
    """A missing patient account (first use) is created before anything is locked, then locked."""
    patient = make_patient(org)
    with CaptureQueriesContext(connection) as ctx:
        wallet_top_up(org=org, actor=None, patient=patient, amount="1000", currency="RUB")
    sql = [q["sql"] for q in ctx.captured_queries]
    inserts = [i for i, q in enumerate(sql) if q.startswith('INSERT INTO "ledger_account"')]
    locks = [i for i, q in enumerate(sql) if "ledger_account" in q and "FOR UPDATE" in q]
    assert inserts
    if connection.vendor == "postgresql":
        # the one statement found the account missing and locked nothing; the lock follows the insert
        assert len(locks) == 2 and locks[0] < inserts[0] < locks[1]
    assert patient_balance(org, patient, "money") == Decimal(1000)
    wallet_top_up(org=org, actor=None, patient=patient, amount="500", currency="RUB")
    assert patient_balance(org, patient, "money") == Decimal(1500)


def test_the_ledger_lines_are_one_statement_newest_first_across_accounts(org: Organization) -> None:
    make_program(org)
    patient = make_patient(org)
    plan = make_plan(org)
    for _ in range(3):
        wallet_top_up(org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=plan)
        wallet_spend(org=org, actor=None, patient=patient, amount="7000", currency="RUB", category="laser")
    with CaptureQueriesContext(connection) as ctx:
        lines = ledger_lines(org=org, patient=patient, limit=7)
    assert len(ctx.captured_queries) == 1
    every = (
        Posting.objects.for_org(org)
        .filter(account__patient=patient)
        .order_by("-created_at", "-id")
        .values_list("pk", "account__kind", "transaction__kind", "amount")
    )
    assert [(ln.id, ln.account, ln.kind, ln.amount) for ln in lines] == list(every[:7])
    assert {ln.account for ln in ledger_lines(org=org, patient=patient)} == {"money", "bonus", "points"}


def test_the_wallet_with_lots_is_read_in_few_statements(api: Api, org: Organization) -> None:
    """The accounts and what their lots have left per day are one statement (was two)."""
    make_program(org)
    patient = make_patient(org)
    plan = make_plan(org)
    wallet_top_up(org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=plan)
    wallet_spend(org=org, actor=None, patient=patient, amount="1000", currency="RUB", category="laser")
    client = api("frontdesk")
    base = f"/api/v1/patients/{patient.pk}"
    assert client.get(f"{base}/wallet").status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(f"{base}/wallet")
    assert r.status_code == 200
    sql = [q["sql"] for q in ctx.captured_queries]
    assert sum(1 for q in sql if "ledger_posting" in q) == 1
    bonus = next(b for b in r.json()["balances"] if b["kind"] == "bonus")
    assert Decimal(bonus["spendable"]) == Decimal(4000)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"{base}/ledger").status_code == 200
    lines = [q["sql"] for q in ctx.captured_queries]
    if connection.vendor == "postgresql":
        # token, patient, branch grant, the audit row (chain head, the row with its link), the lines
        assert len(sql) <= 7, "\n".join(q[:100] for q in sql)
        assert len(lines) <= 6, "\n".join(q[:100] for q in lines)


def test_the_wallet_is_the_same_read_either_way(org: Organization, branch: Branch) -> None:
    """With the patient's branch already read, one statement; without it (its zone would cost a
    query), the accounts and then their lots: the same wallet."""
    patient = make_patient(org, branch=branch)
    plan = make_plan(org)
    wallet_top_up(org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=plan)
    wallet_spend(org=org, actor=None, patient=patient, amount="1000", currency="RUB")
    bare = Patient.objects.for_org(org).get(pk=patient.pk)
    assert not Patient.branch.is_cached(bare)
    with CaptureQueriesContext(connection) as ctx:
        one = wallet_get(org=org, patient=patient)
    assert len(ctx.captured_queries) == 1
    assert wallet_get(org=org, patient=bare) == one
    bonus = next(b for b in one.balances if b.kind == "bonus")
    assert bonus.spendable == Decimal(4000) and len(bonus.expiring) == 1
