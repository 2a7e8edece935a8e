"""The keyed audit chain (SECURITY.md LG-02): writers do not wait for each other, the chainer links
their rows afterwards, and only a holder of the HMAC key can make a row verify."""

from __future__ import annotations

import hashlib
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.test import override_settings
from django.utils import timezone

from clinicflow.core.audit import audit_chain, audit_record, audit_verify
from clinicflow.core.ids import uuid7
from clinicflow.core.models import AuditChainHead, AuditEvent, AuditLink, AuditPending, Organization

KEY_A = {"a": "a" * 40}
KEY_B_A = {"b": "b" * 40, "a": "a" * 40}
DEFERRED = override_settings(AUDIT_CHAIN_INLINE=False)


def _write(org: Organization, n: int, start: int = 0) -> list[AuditEvent]:
    return [
        audit_record(org=org, actor=None, action="view", object_type="patient", object_id=start + i)
        for i in range(n)
    ]


def _pk(value: object) -> object:
    return value.hex if connection.vendor == "sqlite" else value  # type: ignore[attr-defined]


def _disable_triggers() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_append_only")
            cur.execute("ALTER TABLE core_auditlink DISABLE TRIGGER core_auditlink_append_only")


@DEFERRED
def test_rows_wait_unchained_until_the_chainer_links_them(org) -> None:
    rows = _write(org, 3)
    assert [r.seq for r in rows] == [None, None, None]
    assert AuditPending.objects.filter(organization=org).count() == 3
    listed = list(AuditEvent.objects.filter(organization=org))  # unchained rows are listed by time
    assert [(e.pk, e.seq) for e in listed] == [(r.pk, None) for r in rows]
    assert audit_chain(org_id=org.pk) == 3
    assert [(e.pk, e.seq) for e in AuditEvent.objects.filter(organization=org)] == [
        (r.pk, i) for i, r in enumerate(rows, 1)
    ]
    assert AuditPending.objects.filter(organization=org).count() == 0
    assert audit_verify(org=org) == (3, None, "")


@DEFERRED
def test_verify_chains_the_pending_rows_first(org) -> None:
    _write(org, 2)
    assert audit_verify(org=org) == (2, None, "")
    assert AuditChainHead.objects.get(organization=org).seq == 2


def test_a_raw_edit_rehashed_with_plain_sha256_is_named(org) -> None:
    rows = _write(org, 3)
    _disable_triggers()
    with connection.cursor() as cur:
        cur.execute("UPDATE core_auditevent SET outcome = 'denied' WHERE id = %s", [_pk(rows[1].pk)])
    forged = AuditEvent.objects.get(pk=rows[1].pk)
    link = AuditLink.objects.get(event=forged)
    # the insider recomputes the link the way the unkeyed chain did
    digest = hashlib.sha256((link.prev_hash + forged.canonical(link.seq)).encode()).hexdigest()
    with connection.cursor() as cur:
        cur.execute("UPDATE core_auditlink SET hash = %s WHERE id = %s", [digest, _pk(link.pk)])
    checked, broken, reason = audit_verify(org=org)
    assert (checked, broken.pk if broken else None, reason) == (
        1,
        rows[1].pk,
        "row content does not match its hash",
    )


def test_a_forged_row_inserted_with_raw_sql_is_named(org) -> None:
    rows = _write(org, 2)
    head = AuditChainHead.objects.get(organization=org)
    forged = AuditEvent(
        id=uuid7(), organization=org, action="view", object_type="patient", object_id="x", at=timezone.now()
    )
    digest = hashlib.sha256((head.hash + forged.canonical(3)).encode()).hexdigest()
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO core_auditevent (id, organization_id, at, actor_email, role, action, object_type,"
            " object_id, fields, user_agent, outcome, break_glass, kid, tag)"
            " VALUES (%s, %s, %s, '', '', 'view', 'patient', 'x', '[]', '', 'ok', false, 'a', '')",
            [_pk(forged.pk), _pk(org.pk), forged.at],
        )
        cur.execute(
            "INSERT INTO core_auditlink (id, organization_id, seq, event_id, prev_hash, hash, kid)"
            " VALUES (%s, %s, 3, %s, %s, %s, %s)",
            [_pk(uuid7()), _pk(org.pk), _pk(forged.pk), head.hash, digest, "dev"],
        )
        cur.execute(
            "UPDATE core_auditchainhead SET seq = 3, hash = %s WHERE organization_id = %s",
            [digest, _pk(org.pk)],
        )
    checked, broken, reason = audit_verify(org=org)
    assert (checked, broken.pk if broken else None, reason) == (
        2,
        forged.pk,
        "row content does not match its hash",
    )
    assert [r.seq for r in rows] == [1, 2]


@DEFERRED
def test_a_forged_pending_row_is_chained_but_named(org) -> None:
    good = _write(org, 1)[0]
    forged = AuditEvent.objects.create(
        organization=org, action="delete", object_type="patient", object_id="9"
    )
    AuditPending.objects.create(organization=org, event=forged)  # no tag: not written by audit_record
    checked, broken, reason = audit_verify(org=org)
    assert (checked, broken.pk if broken else None) == (1, forged.pk)
    assert reason == "row was not written by the application (its tag did not match when it was chained)"
    assert AuditEvent.objects.get(pk=good.pk).seq == 1


def test_a_row_that_is_neither_chained_nor_pending_is_named_by_the_command(org, capsys) -> None:
    _write(org, 1)
    stray = AuditEvent.objects.create(organization=org, action="view", object_type="patient", object_id="7")
    assert audit_verify(org=org)[1:] == (stray, "row is not in the chain")
    with pytest.raises(CommandError):
        call_command("verify_audit", org=org.slug)
    assert f"unchained row id={stray.pk}" in capsys.readouterr().out


def test_the_key_can_be_rotated_and_old_links_need_the_old_key(org) -> None:
    with override_settings(AUDIT_HMAC_KEYS=KEY_A):
        _write(org, 2)
    with override_settings(AUDIT_HMAC_KEYS=KEY_B_A):
        rows = _write(org, 2, start=2)
        assert audit_verify(org=org) == (4, None, "")
    kids = list(AuditLink.objects.filter(organization=org).order_by("seq").values_list("kid", flat=True))
    assert kids == ["a", "a", "b", "b"]
    assert [e.kid for e in rows] == ["b", "b"]
    with override_settings(AUDIT_HMAC_KEYS={"b": "b" * 40}):
        checked, broken, reason = audit_verify(org=org)
    assert (checked, broken.seq if broken else None, reason) == (
        0,
        1,
        "unknown key id 'a' (not in AUDIT_HMAC_KEYS)",
    )
    with override_settings(AUDIT_HMAC_KEYS={"b": "b" * 40, "a": "z" * 40}):  # a wrong old key
        assert audit_verify(org=org)[2] == "row content does not match its hash"


@DEFERRED
def test_the_worker_and_the_audit_chain_command_run_the_chainer(org, capsys) -> None:
    _write(org, 2)
    call_command("audit_chain")
    assert "audit_chain: 2 rows linked" in capsys.readouterr().out
    _write(org, 1, start=2)
    call_command("worker", "--once")
    assert AuditPending.objects.count() == 0
    assert audit_verify(org=org) == (3, None, "")


# --- PostgreSQL: many writers at once ------------------------------------------------------------


def _run_threads(n: int, work) -> list[str]:  # type: ignore[no-untyped-def]
    barrier, errors = threading.Barrier(n), []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            work(i)
        except Exception as exc:  # pragma: no cover - reported by the assertion
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("inline", [True, False])
def test_concurrent_writers_end_in_one_gapless_intact_chain(inline: bool) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers")
    org = Organization.objects.create(name="C", slug="c", country="RU", currency="RUB")
    threads, each = 12, 8

    def work(i: int) -> None:
        for j in range(each):
            with transaction.atomic():
                audit_record(
                    org=org, actor=None, action="update", object_type="patient", object_id=i * 100 + j
                )

    with override_settings(AUDIT_CHAIN_INLINE=inline):
        assert _run_threads(threads, work) == []
    audit_chain(org_id=org.pk, wait=True)
    seqs = list(AuditLink.objects.filter(organization=org).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, threads * each + 1))
    assert AuditEvent.objects.filter(organization=org, seq__isnull=True).count() == 0
    assert audit_verify(org=org) == (threads * each, None, "")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_writer_does_not_wait_for_a_transaction_holding_the_chain() -> None:
    """Regression: audit_record used to lock the organisation's chain head until commit, so a second
    audited write waited for the first transaction to end."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    org = Organization.objects.create(name="W", slug="w", country="RU", currency="RUB")
    audit_record(org=org, actor=None, action="view", object_type="patient", object_id=0)
    holding, release, errors = threading.Event(), threading.Event(), []

    def hold() -> None:
        try:
            with transaction.atomic():
                audit_record(org=org, actor=None, action="update", object_type="patient", object_id=1)
                holding.set()
                release.wait(timeout=30)
        except Exception as exc:  # pragma: no cover
            errors.append(repr(exc))
        finally:
            connections.close_all()

    other = threading.Thread(target=hold)
    other.start()
    try:
        assert holding.wait(timeout=10)
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SET LOCAL lock_timeout = '2s'")
            mine = audit_record(org=org, actor=None, action="update", object_type="patient", object_id=2)
        assert mine.seq is None  # left for the chainer
    finally:
        release.set()
        other.join(timeout=30)
    assert errors == []
    assert audit_verify(org=org) == (3, None, "")
    assert AuditEvent.objects.get(pk=mine.pk).seq == 3
