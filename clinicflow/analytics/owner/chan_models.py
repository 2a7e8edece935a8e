"""The channel and campaign reports' first patients as daily facts (issue #17, ``owner.chan_facts``
builds them, ``owner.chan_reads`` reads them): per branch and local day (and UTC day) of a first visit,
attribution model, channel, campaign and credit denominator, what the raw attribution statement
(``reports.acquisition.first_patients``) sums for a period.

``part`` says which report counts a row: a branch's report counts a first visit on each branch with an
appointment of its kind at that moment (``part`` 0 and 1), the chain's counts it once, on the first such
branch (``part`` 0: there the branch's flags are the chain's; nearly every visit has one branch).
``kind`` 0: booked first visits and first patients (``booked``, ``arrived``) per the patient's sex and
age band on that day (the patient profile); 1: the first patients'
net revenue paid on a local day (``paid_day``, on the branch's clock) and UTC day (``paid_utc``) in a
currency; 2: their net revenue before the stored predictions' cut-off; 3: their stored predicted future
value (``cents``), how many predictions (``booked``) and the predictions' day (``until``). Money in
cents, per currency."""

from __future__ import annotations

from django.db import models

from clinicflow.analytics.models import derived_fk
from clinicflow.core.models import Branch, Organization, TenantModel

BOTH, BRANCH_ONLY = 0, 1  # counted by the chain and the branch, by the branch only
COUNTS, PAID, BEFORE_CUTOFF, PREDICTED = 0, 1, 2, 3
DEFAULT_MODEL = "last_non_direct"  # the channel report's default attribution model
# the attribution models the facts hold; the report's other choices (first touch, linear) read the raw
# statement: each model's rows cost as much to write again as the default's (the rebuild's time)
FACT_MODELS = (DEFAULT_MODEL,)


class ChanFirstFact(TenantModel):
    organization = derived_fk(Organization, on_delete=models.PROTECT)
    branch = derived_fk(Branch)
    day = models.DateField()  # the first visit's local day on the branch's clock
    utc_day = models.DateField()  # its UTC day (the chain's report periods, ``base.period_bounds``)
    part = models.SmallIntegerField(default=BOTH)
    model = models.CharField(max_length=20)
    channel_id = models.UUIDField(null=True)  # None: direct / unknown
    campaign_id = models.UUIDField(null=True)
    den = models.IntegerField(default=1)  # each first visit here is credited 1/den (linear model)
    kind = models.SmallIntegerField(default=COUNTS)
    currency = models.CharField(max_length=3, blank=True)
    paid_day = models.DateField(null=True)
    paid_utc = models.DateField(null=True)
    booked = models.IntegerField(default=0)
    arrived = models.IntegerField(default=0)
    cents = models.BigIntegerField(default=0)
    until = models.DateField(null=True)
    sex = models.CharField(max_length=10, blank=True)  # kind 0: the patient's, and their age band
    band = models.CharField(max_length=10, blank=True)  # on the day (``reports.profile.band_of``)

    class Meta:
        app_label = "analytics"
        indexes = [
            # one index (each costs the rebuild its writes): the chain's UTC days are read through it too
            models.Index(fields=["organization", "day", "branch"], name="chanfirst_org_day_idx"),
        ]
