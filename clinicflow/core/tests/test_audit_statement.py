"""An audit row left to the chainer costs one statement outside a transaction (no BEGIN, no COMMIT),
and can ride on the statement that reads what it audits (``audit_in_statement``). Transactional
tests: the point is what happens outside ``atomic`` (each test's own transaction would hide it)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from clinicflow.core.audit import audit_chain, audit_in_statement, audit_record, audit_verify
from clinicflow.core.models import AuditEvent, AuditPending, Organization

pytestmark = pytest.mark.django_db(transaction=True)
DEFERRED = override_settings(AUDIT_CHAIN_INLINE=False)  # the production default


def _org() -> Organization:
    return Organization.objects.create(name="S", slug="s", country="RU", currency="RUB")


def _statements(ctx: CaptureQueriesContext) -> list[str]:
    return [q["sql"].split()[0].upper() for q in ctx.captured_queries]


@DEFERRED
def test_a_row_left_to_the_chainer_is_one_statement_outside_a_transaction() -> None:
    org = _org()
    with CaptureQueriesContext(connection) as ctx:
        event = audit_record(org=org, actor=None, action="list", object_type="patient", fields=["phone"])
    if connection.vendor == "postgresql":
        assert _statements(ctx) == ["WITH"]  # the row and its marker: no BEGIN, no COMMIT
    else:
        assert len(ctx.captured_queries) >= 2  # the row, then its marker, in one transaction
    assert event.seq is None and not event._state.adding
    assert AuditPending.objects.filter(event=event).count() == 1
    assert audit_chain(org_id=org.pk, wait=True) == 1
    assert audit_verify(org=org) == (1, None, "")


@DEFERRED
def test_inside_a_transaction_the_row_goes_with_it() -> None:
    org = _org()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(org=org, actor=None, action="view", object_type="patient", object_id=1)
        raise RuntimeError("the change fails")
    assert not AuditEvent.objects.filter(organization=org).exists()
    with transaction.atomic():  # inside a transaction the caller's statement is not the only one
        assert audit_in_statement(org=org, actor=None, action="list", object_type="patient") is None


def test_the_row_rides_on_the_read_only_where_it_is_one_statement() -> None:
    org = _org()
    with override_settings(AUDIT_CHAIN_INLINE=True):  # the writer chains its own row: not here
        assert audit_in_statement(org=org, actor=None, action="list", object_type="patient") is None
    with DEFERRED:
        audit = audit_in_statement(org=org, actor=None, action="list", object_type="patient", fields=["name"])
        if connection.vendor != "postgresql":
            assert audit is None  # SQLite: audit_record writes it
            return
        assert audit is not None and not audit.written
        with CaptureQueriesContext(connection) as ctx, connection.cursor() as cur:
            cur.execute(f"WITH {audit.cte} SELECT 41 + %s", [*audit.params, 1])
            assert cur.fetchone() == (42,)
    assert _statements(ctx) == ["WITH"]
    row = AuditEvent.objects.get(organization=org)
    assert (row.pk, row.action, row.object_type, row.fields) == (audit.event.pk, "list", "patient", ["name"])
    assert AuditPending.objects.filter(event=row).count() == 1
    assert audit_verify(org=org) == (1, None, "")  # chains it; its tag is the application's


@DEFERRED
def test_a_failing_read_writes_no_row() -> None:
    org = _org()
    audit = audit_in_statement(org=org, actor=None, action="list", object_type="patient")
    if connection.vendor != "postgresql":
        assert audit is None
        return
    assert audit is not None
    with pytest.raises(DatabaseError), connection.cursor() as cur:
        cur.execute(f"WITH {audit.cte} SELECT 1 / %s", [*audit.params, 0])
    assert not AuditEvent.objects.filter(organization=org).exists()
    assert not AuditPending.objects.filter(organization=org).exists()
