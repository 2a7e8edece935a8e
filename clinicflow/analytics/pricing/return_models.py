"""The what-if planner's return facts (issue #18's speed, ``pricing.return_facts`` builds them): per
organisation, local day of a visit that happened (on its branch's clock; the branches together) and its
currency,

- ``ReturnGapFact``: the visits by the bin of their gap after the patient's previous visit that
  happened in that currency (``grouped.GAP_EDGES``: 0 below the first edge, 1..4 the weeks before a
  return is certain; 6 from the last edge to ``grouped.TAIL_DAYS``; 5 later or no previous visit) and
  the local days since it (the patients with a visit in a span of days: the lapsed list's reach);
- ``ReturnLinkFact``: per month ``since`` (year × 12 + month − 1, the visit's month and the five
  before) the visits by how many of their patient's gaps since then — a gap counted when the visit
  before it is in that month or later on its branch's clock — fall in each bin 1..5 up to that visit
  (``c1``..``c5``), with their price.

The planner reads a few rows per day instead of the visits of a year and a half."""

from __future__ import annotations

from django.db import models

from clinicflow.analytics.models import derived_fk
from clinicflow.core.models import Organization, TenantModel


class ReturnGapFact(TenantModel):
    organization = derived_fk(Organization, on_delete=models.PROTECT)
    day = models.DateField()
    currency = models.CharField(max_length=3)
    gap = models.SmallIntegerField()
    days = models.SmallIntegerField(null=True)  # local days since the previous visit (capped; None: none)
    visits = models.IntegerField(default=0)

    class Meta:
        app_label = "analytics"
        indexes = [models.Index(fields=["organization", "day"], name="retgapfact_org_day_idx")]


class ReturnLinkFact(TenantModel):
    organization = derived_fk(Organization, on_delete=models.PROTECT)
    day = models.DateField()
    currency = models.CharField(max_length=3)
    since = models.IntegerField()
    c1 = models.SmallIntegerField(default=0)
    c2 = models.SmallIntegerField(default=0)
    c3 = models.SmallIntegerField(default=0)
    c4 = models.SmallIntegerField(default=0)
    c5 = models.SmallIntegerField(default=0)
    visits = models.IntegerField(default=0)
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        app_label = "analytics"
        indexes = [
            models.Index(fields=["organization", "day"], name="retlinkfact_org_day_idx"),
            models.Index(fields=["organization", "since", "day"], name="retlinkfact_org_since_idx"),
        ]
