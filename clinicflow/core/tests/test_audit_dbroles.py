"""The database roles of `clinicflow dbroles` (SECURITY.md LG-02 against a database insider): connected
as the application role, the audit log takes INSERTs only, and its append-only triggers stay on."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from clinicflow.core.audit import audit_record, audit_verify
from clinicflow.core.dbroles import roles_sql
from clinicflow.core.models import AuditChainHead, AuditEvent, Branch, Organization

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL roles and grants"),
]


@pytest.fixture
def roles() -> Iterator[tuple[str, str]]:
    suffix = uuid.uuid4().hex[:8]
    owner, app = f"cf_test_owner_{suffix}", f"cf_test_app_{suffix}"
    database = connection.settings_dict["NAME"]
    me = connection.settings_dict["USER"] or "postgres"
    with connection.cursor() as cur:
        cur.execute(roles_sql(owner=owner, app=app, database=database))
    try:
        yield owner, app
    finally:
        with connection.cursor() as cur:
            for role in (app, owner):
                cur.execute(f'REASSIGN OWNED BY "{role}" TO "{me}"')
                cur.execute(f'DROP OWNED BY "{role}"')
                cur.execute(f'DROP ROLE "{role}"')


def _connect(role: str) -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(
        host="127.0.0.1", port=s["PORT"] or 5432, dbname=s["NAME"], user=role, autocommit=True
    )


def _refused(conn: psycopg.Connection, sql: str, params: list[object] | None = None) -> str:
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as info, conn.cursor() as cur:
        cur.execute(sql, params)
    return str(info.value)


def test_the_app_role_can_only_insert_into_the_audit_log(roles: tuple[str, str]) -> None:
    owner, app = roles
    org = Organization.objects.create(name="R", slug="r", country="RU", currency="RUB")
    branch = Branch.objects.create(
        organization=org, name="B", slug="b", country="RU", timezone="Europe/Moscow", currency="RUB"
    )
    first = audit_record(org=org, actor=None, action="view", object_type="patient", object_id=1)
    new_id = uuid.uuid4()
    with _connect(app) as conn, conn.cursor() as cur:
        cur.execute("UPDATE core_branch SET name = 'B2' WHERE id = %s", [branch.pk])  # ordinary DML works
        cur.execute("SELECT count(*) FROM core_auditevent")
        assert cur.fetchone() == (1,)
        cur.execute(
            "INSERT INTO core_auditevent (id, organization_id, at, actor_email, role, action, object_type,"
            " object_id, fields, user_agent, outcome, break_glass, kid, tag)"
            " VALUES (%s, %s, %s, '', '', 'view', 'patient', '2', '[]', '', 'ok', false, '', '')",
            [new_id, org.pk, timezone.now()],
        )
        for table in ("core_auditevent", "core_auditlink"):
            _refused(conn, f"UPDATE {table} SET id = id")
            _refused(conn, f"DELETE FROM {table}")
            _refused(conn, f"TRUNCATE {table} CASCADE")
            assert "must be owner" in _refused(
                conn, f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"
            )
            assert "must be owner" in _refused(conn, f"DROP TRIGGER {table}_append_only ON {table}")
        _refused(conn, "CREATE TABLE cf_sneaky (id int)")
        # the chainer's own work is allowed: lock the chain head, link, move the head
        cur.execute("SELECT seq FROM core_auditchainhead WHERE organization_id = %s FOR UPDATE", [org.pk])
        assert cur.fetchone() == (1,)
    assert Branch.objects.get(pk=branch.pk).name == "B2"
    assert AuditEvent.objects.filter(organization=org).count() == 2
    # the row inserted behind the application's back is named by verify_audit
    checked, broken, reason = audit_verify(org=org)
    assert (checked, broken.pk if broken else None, reason) == (1, new_id, "row is not in the chain")
    assert first.seq == 1 and AuditChainHead.objects.get(organization=org).seq == 1
    with connection.cursor() as cur:
        cur.execute(
            "SELECT tableowner FROM pg_tables WHERE tablename IN ('core_auditevent', 'core_auditlink')"
        )
        assert {row[0] for row in cur.fetchall()} == {owner}
