"""The audit log is append-only and hash-chained (SECURITY.md LG-01, LG-02)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from clinicflow.core.audit import audit_record, audit_verify
from clinicflow.core.models import AuditEvent, AuditLink


def _rows(org, n=3):
    return [
        audit_record(org=org, actor=None, action="view", object_type="patient", object_id=i) for i in range(n)
    ]


def test_rows_form_an_intact_chain(org) -> None:
    rows = _rows(org, 4)
    assert [r.seq for r in rows] == [1, 2, 3, 4]
    links = list(AuditLink.objects.filter(organization=org).order_by("seq"))
    assert [link.event_id for link in links] == [r.pk for r in rows]
    assert links[1].prev_hash == links[0].hash
    assert [e.pk for e in AuditEvent.objects.filter(organization=org).order_by("seq")] == [r.pk for r in rows]
    assert audit_verify(org=org) == (4, None, "")


def test_orm_updates_and_deletes_are_refused(org) -> None:
    row = _rows(org, 1)[0]
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=row.pk).update(outcome="denied")
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=row.pk).delete()
    with pytest.raises(TypeError):
        row.delete()
    row.outcome = "denied"
    with pytest.raises(TypeError):
        row.save()
    link = AuditLink.objects.get(event=row)
    with pytest.raises(TypeError):
        AuditLink.objects.filter(pk=link.pk).update(hash="0" * 64)
    with pytest.raises(TypeError):
        AuditLink.objects.filter(pk=link.pk).delete()
    with pytest.raises(TypeError):
        link.delete()


def test_a_raw_edit_is_named_by_verify_audit(org, capsys) -> None:
    rows = _rows(org, 3)
    _disable_triggers()
    with connection.cursor() as cur:
        cur.execute("UPDATE core_auditevent SET object_id = %s WHERE id = %s", ["tampered", _pk(rows[1])])
    checked, broken, reason = audit_verify(org=org)
    assert (checked, broken.pk, reason) == (1, rows[1].pk, "row content does not match its hash")
    with pytest.raises(CommandError):
        call_command("verify_audit", org=org.slug)
    assert f"seq=2 id={rows[1].pk}" in capsys.readouterr().out


def _disable_triggers() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_append_only")
            cur.execute("ALTER TABLE core_auditlink DISABLE TRIGGER core_auditlink_append_only")


def _pk(row):  # type: ignore[no-untyped-def]
    return row.pk.hex if connection.vendor == "sqlite" else row.pk


def test_a_raw_delete_is_detected(org) -> None:
    rows = _rows(org, 3)
    _disable_triggers()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM core_auditlink WHERE event_id = %s", [_pk(rows[1])])
        cur.execute("DELETE FROM core_auditevent WHERE id = %s", [_pk(rows[1])])
    checked, broken, reason = audit_verify(org=org)
    assert broken is not None and broken.pk == rows[2].pk
    assert reason == "sequence gap: expected 2, found 3"


def test_deleting_the_last_row_is_detected_by_the_chain_head(org) -> None:
    rows = _rows(org, 3)
    _disable_triggers()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM core_auditlink WHERE event_id = %s", [_pk(rows[2])])
        cur.execute("DELETE FROM core_auditevent WHERE id = %s", [_pk(rows[2])])
    assert audit_verify(org=org) == (2, None, "chain head says 3 rows, found 2 (rows deleted at the end?)")


@pytest.mark.postgres
def test_postgres_trigger_refuses_raw_updates(org) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the database trigger exists on PostgreSQL only")
    row = _rows(org, 1)[0]
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE core_auditevent SET outcome = 'denied' WHERE id = %s", [row.pk])
    row.refresh_from_db()
    assert row.outcome == "ok"
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE core_auditlink SET hash = %s WHERE event_id = %s", ["0" * 64, row.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM core_auditlink WHERE event_id = %s", [row.pk])
    assert AuditLink.objects.filter(event=row).count() == 1


def test_audit_rows_hold_no_secrets_or_note_text(api, users, org) -> None:
    from clinicflow.conftest import PASSWORD

    client = api("doctor")
    created = client.post(
        "/api/v1/patients",
        {"last_name": "Secretova", "first_name": "A", "clinical_notes": "TOPSECRET-NOTE"},
        content_type="application/json",
    )
    assert created.status_code == 201
    from django.test import Client

    Client().post(
        "/api/v1/auth/token",
        {"email": "owner@demo.test", "password": PASSWORD},
        content_type="application/json",
    )
    for event in AuditEvent.objects.all():
        text = event.canonical()
        assert "TOPSECRET-NOTE" not in text and PASSWORD not in text and "cf_" not in event.object_id
