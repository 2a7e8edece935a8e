"""Net revenue of one branch's local day per currency, split into first-visit, repeat and other revenue
(``RevenueSplitFact``; issue #17): ``RevenueFact``'s rows summed over doctor and service, so the owner
home's revenue and first-visit share (``selectors.revenue_split``) and the revenue report by branch read
at most three rows a branch-day per currency instead of one per doctor, service and flag — a number that
grows with the visits of a day (at ``chain-1m`` ~200 a branch-day, against 3).

Built from the day's ``RevenueFact`` rows right after them: by the full rebuild and the incremental
update (``fact_hooks``: the days they build again, whose revenue facts are already current)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from django.db import models, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q, Sum

from clinicflow.analytics.models import RevenueFact, derived_fk
from clinicflow.analytics.owner.fact_clear import clear, row_id
from clinicflow.analytics.owner.factsql import day_chunks, execute, qs_sql, tune
from clinicflow.core.models import Branch, Organization, TenantModel


class RevenueSplitFact(TenantModel):
    # derived rows written in bulk: no deferred foreign-key check per row at COMMIT (``derived_fk``)
    organization = derived_fk(Organization, on_delete=models.PROTECT)
    branch = derived_fk(Branch)
    day = models.DateField()
    currency = models.CharField(max_length=3)
    first = models.BooleanField(default=False)  # first-visit revenue
    visit = models.BooleanField(default=False)  # for an appointment (else: a membership, a prepayment)
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    payments = models.IntegerField(default=0)

    class Meta:
        app_label = "analytics"
        indexes = [models.Index(fields=["organization", "day", "branch"], name="revsplit_org_day_idx")]


VISIT = ExpressionWrapper(Q(service_id__isnull=False), output_field=BooleanField())


def build_revenue_split(org: Organization, days: Collection[dt.date] | None = None) -> int:
    """The split of every day (``days`` None) or of these local days, from their revenue facts; rows."""
    if days is not None and not days:
        return 0
    table = RevenueSplitFact._meta.db_table
    written = 0
    with transaction.atomic():
        tune()  # the grouping in memory, no JIT compilation (``factsql.TUNED``)
        for chunk in day_chunks(list(days) if days is not None else None):
            if chunk is None:  # every day: the organisation's rows (``fact_clear.clear``)
                clear(org, RevenueSplitFact)
            else:
                RevenueSplitFact.objects.for_org(org).filter(day__in=chunk).delete()
            rev = RevenueFact.objects.for_org(org).order_by()
            if chunk is not None:
                rev = rev.filter(day__in=chunk)
            sql, params = qs_sql(
                rev.values("organization_id", "branch_id", "day", "currency", "first", v=VISIT).annotate(
                    a=Sum("amount"), n=Sum("payments")
                )
            )
            insert = (
                f"INSERT INTO {table} (id, organization_id, branch_id, day, currency, first, visit, "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
                f"amount, payments) SELECT {row_id()}, s.* FROM ({sql}) s ORDER BY s.day, s.branch_id"
            )
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            written += execute(insert, params)
    return written
