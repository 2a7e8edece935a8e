"""Reconciliation: balances recomputed from the postings, compared with the cached ones.

``ledger_verify`` checks, per organisation: every transaction sums to zero per unit; every patient
account's cached ``balance`` equals the sum of its postings and is not negative; the last posting's
``balance_after`` of each patient account equals that sum and its postings are numbered 1..n
without a gap; and all the balances of one unit add up to
zero. It names the first mismatch found (accounts in id order) and counts them all."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Sum

from clinicflow.core.models import Organization
from clinicflow.ledger.models import PATIENT_KINDS, Account, Posting
from clinicflow.ledger.services.journal import round_unit


@dataclass
class Report:
    org: Organization
    accounts: int = 0
    transactions: int = 0
    postings: int = 0
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def ledger_verify(*, org: Organization) -> Report:
    report = Report(org=org)
    postings = Posting.objects.for_org(org)
    report.postings = postings.count()
    sums: dict[uuid.UUID, Decimal] = {
        row["account"]: row["s"] for row in postings.values("account").annotate(s=Sum("amount")).order_by()
    }
    unbalanced = (
        postings.values("transaction", "unit").annotate(s=Sum("amount")).exclude(s=0).order_by("transaction")
    )
    shown = 0
    for row in unbalanced.iterator(chunk_size=2000):
        # SQLite adds decimals as floats (5.7E-14 for an exact zero): compare in the unit's places
        total = round_unit(Decimal(str(row["s"])), row["unit"])
        if total != 0 and shown < 100:
            shown += 1
            report.mismatches.append(f"transaction {row['transaction']} sums to {total} {row['unit']}, not 0")
    report.transactions = postings.values("transaction").distinct().count()
    last_after = _last_balance_after(org)
    numbered = {
        row["account"]: row["n"]
        for row in postings.filter(seq__isnull=False).values("account").annotate(n=Count("id")).order_by()
    }
    per_unit: dict[str, Decimal] = defaultdict(Decimal)
    for account in Account.objects.for_org(org).order_by("pk"):
        report.accounts += 1
        replay = round_unit(sums.get(account.pk, Decimal(0)), account.unit)
        per_unit[account.unit] += replay
        if account.kind not in PATIENT_KINDS:
            continue
        label = f"account {account.pk} ({account.kind} {account.unit}, patient {account.patient_id})"
        if account.balance != replay:
            report.mismatches.append(f"{label}: cached balance {account.balance}, postings sum to {replay}")
        if replay < 0:
            report.mismatches.append(f"{label}: negative balance {replay}")
        if numbered.get(account.pk, 0) != account.last_seq:
            report.mismatches.append(
                f"{label}: {numbered.get(account.pk, 0)} postings, numbered up to {account.last_seq}"
            )
        after = last_after.get(account.pk)
        if after is not None and after != replay:
            report.mismatches.append(f"{label}: last balance_after {after}, postings sum to {replay}")
    for unit, total in sorted(per_unit.items()):
        if total != 0:
            report.mismatches.append(f"the balances in {unit} sum to {total}, not 0")
    return report


def _last_balance_after(org: Organization) -> dict[uuid.UUID, Decimal]:
    out: dict[uuid.UUID, Decimal] = {}
    rows = (
        Posting.objects.for_org(org)
        .filter(seq__isnull=False)
        .order_by("account", "seq")
        .values_list("account", "balance_after")
    )
    for account, after in rows.iterator():
        if after is not None:
            out[account] = after
    return out
