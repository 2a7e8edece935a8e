"""Locking several patients' accounts at once (a gift of points, a referral's two rewards): lock
first, then read, as ``journal.accounts_locked`` does for one patient."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.db import connection

from clinicflow.core.models import Organization
from clinicflow.ledger.models import PATIENT_KINDS, Account
from clinicflow.ledger.services.journal import LedgerError, account_for, lock
from clinicflow.patients.models import Patient

_EACH_LOCKED = """
SELECT a.* FROM {table} a
 WHERE a.organization_id = %s AND a.patient_id IN ({ids}) AND a.kind = %s AND a.unit = %s
   AND (SELECT COUNT(*) FROM {table} b
         WHERE b.organization_id = %s AND b.patient_id IN ({ids}) AND b.kind = %s AND b.unit = %s) = %s
 ORDER BY a.id
   FOR UPDATE"""


def patients_locked(
    *, org: Organization, patients: Sequence[Patient], kind: str, unit: str
) -> dict[uuid.UUID, Account]:
    """Each patient's ``(kind, unit)`` account, locked, by patient pk (call inside atomic): as
    ``accounts_locked`` for several patients, read and locked in one statement on PostgreSQL when
    they all exist (primary-key order); else the missing ones are created with no lock held, then
    all are locked."""
    if kind not in PATIENT_KINDS:
        raise LedgerError(f"{kind} accounts belong to the clinic")
    ids = sorted({p.pk for p in patients})
    if connection.vendor == "postgresql":
        table, marks = Account._meta.db_table, ", ".join(["%s"] * len(ids))
        sql = _EACH_LOCKED.format(table=table, ids=marks)
        params: list[object] = [org.pk, *ids, kind, unit, org.pk, *ids, kind, unit, len(ids)]
        # nosemgrep: sql-built-from-strings — names from model meta, placeholders only, values bound
        found = {a.patient_id: a for a in Account.objects.raw(sql, params)}
        if len(found) == len(ids):
            return found  # type: ignore[return-value]
    by_patient = {p.pk: account_for(org=org, kind=kind, unit=unit, patient=p) for p in patients}
    locked = lock(by_patient.values())
    return {pk: locked[a.pk] for pk, a in by_patient.items()}


__all__ = ["patients_locked"]
