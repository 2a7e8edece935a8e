"""The lifetime-value engine on an organisation's own data.

Transactions are the organisation's payments (refunds subtracted) per patient and day — the day in
the paying branch's time zone. Merged-away patients count under the patient they were merged into.
Predictions are stored in ``patients.PatientPrediction`` so patient lists can sort and filter by
predicted value and P(alive).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from clinicflow.analytics.clv.predict import ClvResult
from clinicflow.booking.models import Payment, PaymentKind
from clinicflow.core.models import Branch, Organization
from clinicflow.patients.models import Patient, PatientPrediction


class UnknownOrganisation(LookupError):
    pass


def _org(slug: str) -> Organization:
    org = Organization.objects.filter(slug=slug).first()
    if org is None:
        raise UnknownOrganisation(f"no organisation with slug {slug!r}")
    return org


def load_org_transactions(slug: str) -> Iterator[tuple[str, dt.date, Decimal]]:
    """(patient id, local date, net amount) per patient and day, in the organisation's currency."""
    org = _org(slug)
    zones = {b.pk: zoneinfo.ZoneInfo(b.timezone) for b in Branch.objects.for_org(org)}
    merged = dict(
        Patient.objects.for_org(org).filter(merged_into__isnull=False).values_list("pk", "merged_into_id")
    )
    totals: dict[tuple[str, dt.date], Decimal] = defaultdict(Decimal)
    rows = (
        Payment.objects.for_org(org)
        .filter(currency=org.currency)
        .values_list("patient_id", "branch_id", "paid_at", "amount", "kind")
        .order_by()
        .iterator(chunk_size=20_000)
    )
    for paid_by, branch_id, paid_at, amount, kind in rows:
        patient_id = str(merged.get(paid_by, paid_by))
        day = paid_at.astimezone(zones.get(branch_id, dt.UTC)).date()
        totals[(patient_id, day)] += -amount if kind == PaymentKind.REFUND else amount
    for (key, day), net in totals.items():
        if net > 0:
            yield key, day, net


@transaction.atomic
def store_predictions(slug: str, result: ClvResult) -> int:
    """Replace the organisation's stored predictions with ``result``; returns the number stored."""
    org = _org(slug)
    summary, pred = result.summary, result.predictions
    now = timezone.now()
    cents = Decimal("0.01")
    PatientPrediction.objects.for_org(org).delete()
    rows = [
        PatientPrediction(
            organization=org,
            patient_id=patient_id,
            p_alive=float(pred.p_alive[i]),
            expected_visits=float(pred.expected_visits[i]),
            expected_value=Decimal(repr(float(pred.expected_value[i]))).quantize(cents),
            clv=Decimal(repr(float(pred.clv[i]))).quantize(cents),
            currency=org.currency,
            until=summary.until,
            computed_at=now,
        )
        for i, patient_id in enumerate(summary.patient_ids)
    ]
    PatientPrediction.objects.bulk_create(rows, batch_size=5000)
    # the owner's channel facts hold the predicted lifetime value and the revenue before the cut-off
    from clinicflow.analytics.owner.fact_hooks import predictions_stored  # (an import cycle at the top)

    predictions_stored(org)
    return len(rows)
