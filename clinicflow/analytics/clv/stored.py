"""Selectors over the lifetime-value engine's stored predictions (``patients.PatientPrediction``,
written by ``org_source.store_predictions``): reports read these, never a fresh fit."""

from __future__ import annotations

import datetime as dt

from django.db.models import DateTimeField, Expression, ExpressionWrapper, Max, Subquery, Value
from django.db.models.functions import Cast

from clinicflow.core.models import Organization
from clinicflow.patients.models import PatientPrediction


def predictions_until(*, org: Organization) -> dt.date | None:
    """The day the organisation's stored predictions were made for (their transactions' cut-off), or
    None when it has none. A run replaces every row, so the rows share it; the latest is taken."""
    until: dt.date | None = PatientPrediction.objects.for_org(org).aggregate(u=Max("until"))["u"]
    return until


def cutoff(until: dt.date) -> dt.datetime:
    """The end of the predictions' day (UTC): payments before it are history, after it the future."""
    return dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)


def cutoff_expression(*, org: Organization) -> Expression:
    """``cutoff(predictions_until(org))`` inside a query (NULL when the organisation has no stored
    predictions), so a report needs no query of its own for it."""
    latest = (
        PatientPrediction.objects.for_org(org)
        .order_by()
        .values("organization")
        .annotate(m=Max("until"))
        .values("m")[:1]
    )
    return ExpressionWrapper(
        Cast(Subquery(latest), DateTimeField()) + Value(dt.timedelta(days=1)), output_field=DateTimeField()
    )
