"""Invoices for the payments recorded before checkout existed (``booking.Payment`` rows).

Per organisation: one invoice per visit and currency (the visit's payments, net of its refunds), and
one per payment made for no visit (memberships, prepayments). Each invoice has one line (the visit's
service, or "Payment") at what was paid, so it is paid in full; each payment becomes a tender (its
method) and each refund a refund tender of the first payment with enough left; each tender is one
balanced journal transaction, ``cash`` → ``revenue`` (refunds the other way). The Payment rows
themselves are untouched: the revenue reports keep reading them. A visit whose refunds exceed its
payments (no such data is known) is left without an invoice. Idempotent: payments already linked to a
tender are skipped. Runs in chunks; the reverse step deletes nothing (the journal is append-only)."""

import uuid
from collections import defaultdict
from decimal import Decimal

from django.db import migrations

CHUNK = 2000


def _uuid7():
    from clinicflow.core.ids import uuid7

    return uuid7()


def _account(Account, org_id, kind, unit):
    account, _ = Account.objects.get_or_create(organization_id=org_id, patient=None, kind=kind, unit=unit)
    return account


def forward(apps, schema_editor):
    Payment = apps.get_model("booking", "Payment")
    Invoice = apps.get_model("ledger", "Invoice")
    InvoiceLine = apps.get_model("ledger", "InvoiceLine")
    InvoiceTender = apps.get_model("ledger", "InvoiceTender")
    Transaction = apps.get_model("ledger", "Transaction")
    Posting = apps.get_model("ledger", "Posting")
    Account = apps.get_model("ledger", "Account")
    linked = InvoiceTender.objects.filter(payment__isnull=False).values("payment_id")
    todo = Payment.objects.exclude(pk__in=linked)
    for org_id in todo.values_list("organization_id", flat=True).distinct().order_by():
        rows = list(
            todo.filter(organization_id=org_id)
            .order_by("paid_at", "id")
            .values(
                "id",
                "appointment_id",
                "appointment__service_id",
                "patient_id",
                "branch_id",
                "amount",
                "currency",
                "method",
                "kind",
                "paid_at",
                "recorded_by_id",
            )
        )
        groups = defaultdict(list)
        for r in rows:
            key = (r["appointment_id"], r["currency"]) if r["appointment_id"] else (None, r["id"])
            groups[key].append(r)
        invoiced = set(
            Invoice.objects.filter(organization_id=org_id, appointment__isnull=False).values_list(
                "appointment_id", flat=True
            )
        )
        accounts = {}
        batch = []
        for (appointment_id, _), group in groups.items():
            batch.append((appointment_id, group))
            if len(batch) >= CHUNK:
                _write(
                    batch,
                    org_id,
                    invoiced,
                    accounts,
                    Invoice,
                    InvoiceLine,
                    InvoiceTender,
                    Transaction,
                    Posting,
                    Account,
                )
                batch = []
        if batch:
            _write(
                batch,
                org_id,
                invoiced,
                accounts,
                Invoice,
                InvoiceLine,
                InvoiceTender,
                Transaction,
                Posting,
                Account,
            )


def _write(
    batch, org_id, invoiced, accounts, Invoice, InvoiceLine, InvoiceTender, Transaction, Posting, Account
):
    invoices, lines, tenders, txns, postings = [], [], [], [], []
    for appointment_id, group in batch:
        pays = [r for r in group if r["kind"] == "payment"]
        refunds = [r for r in group if r["kind"] == "refund"]
        paid = sum((r["amount"] for r in pays), Decimal(0))
        refunded = sum((r["amount"] for r in refunds), Decimal(0))
        if not pays or refunded > paid:
            continue
        first, cur = pays[0], group[0]["currency"]
        for kind in ("cash", "revenue"):
            if (kind, cur) not in accounts:
                accounts[(kind, cur)] = _account(Account, org_id, kind, cur)
        cash, revenue = accounts[("cash", cur)], accounts[("revenue", cur)]
        inv_id = _uuid7()
        visit = appointment_id if appointment_id and appointment_id not in invoiced else None
        if visit:
            invoiced.add(visit)
        status = "paid" if refunded == 0 else ("refunded" if refunded == paid else "part_refunded")
        invoices.append(
            Invoice(
                id=inv_id,
                organization_id=org_id,
                number="M-" + inv_id.hex[-12:].upper(),
                patient_id=first["patient_id"],
                branch_id=first["branch_id"],
                appointment_id=visit,
                currency=cur,
                subtotal=paid,
                discount=Decimal(0),
                total=paid,
                paid=paid,
                refunded=refunded,
                status=status,
                source="migrated",
                created_at=first["paid_at"],
                paid_at=pays[-1]["paid_at"],
                created_by_id=first["recorded_by_id"],
            )
        )
        service = first["appointment__service_id"] if appointment_id else None
        lines.append(
            InvoiceLine(
                id=_uuid7(),
                organization_id=org_id,
                invoice_id=inv_id,
                position=1,
                service_id=service,
                description="" if service else "Payment",
                quantity=Decimal(1),
                unit_price=paid,
                discount=Decimal(0),
                total=paid,
            )
        )
        left = {}
        for r in pays + refunds:  # payments first: each refund names one with the most left
            txn_id, tender_id = _uuid7(), _uuid7()
            sign = Decimal(1) if r["kind"] == "payment" else Decimal(-1)
            refund_of = None
            if r["kind"] == "refund":
                refund_of = max(left, key=lambda t: left[t])
                left[refund_of] -= r["amount"]
            else:
                left[tender_id] = r["amount"]
            txns.append(
                Transaction(
                    id=txn_id,
                    organization_id=org_id,
                    kind="payment" if sign > 0 else "refund",
                    patient_id=r["patient_id"],
                    memo=r["method"],
                    reference=invoices[-1].number,
                    created_at=r["paid_at"],
                    created_by_id=r["recorded_by_id"],
                )
            )
            postings += [
                Posting(
                    id=_uuid7(),
                    organization_id=org_id,
                    transaction_id=txn_id,
                    account_id=cash.pk,
                    unit=cur,
                    amount=-sign * r["amount"],
                    created_at=r["paid_at"],
                ),
                Posting(
                    id=_uuid7(),
                    organization_id=org_id,
                    transaction_id=txn_id,
                    account_id=revenue.pk,
                    unit=cur,
                    amount=sign * r["amount"],
                    created_at=r["paid_at"],
                ),
            ]
            tenders.append(
                InvoiceTender(
                    id=tender_id,
                    organization_id=org_id,
                    invoice_id=inv_id,
                    kind=r["kind"],
                    method=r["method"]
                    if r["method"] in ("cash", "card", "transfer", "online")
                    else "membership",
                    amount=r["amount"],
                    revenue=r["amount"],
                    refund_of_id=refund_of,
                    transaction_id=txn_id,
                    payment_id=r["id"],
                    batch=uuid.UUID(int=inv_id.int),
                    created_at=r["paid_at"],
                    created_by_id=r["recorded_by_id"],
                )
            )
    Invoice.objects.bulk_create(invoices)
    InvoiceLine.objects.bulk_create(lines)
    Transaction.objects.bulk_create(txns)
    Posting.objects.bulk_create(postings)
    # refunds name a payment tender written in the same batch: write the payments first
    InvoiceTender.objects.bulk_create([t for t in tenders if t.kind == "payment"])
    InvoiceTender.objects.bulk_create([t for t in tenders if t.kind == "refund"])


class Migration(migrations.Migration):
    atomic = True
    dependencies = [
        ("ledger", "0005_invoices_append_only"),
        ("booking", "0005_hashed_feed_tokens_and_manage_link_versions"),
    ]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
