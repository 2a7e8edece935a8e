"""Daily facts (issue #17): per organisation, branch and the branch's local day, the figures the owner's
reports read instead of the raw tables. Rebuilt from the raw tables by
``clinicflow.analytics.owner.facts.rebuild`` and kept current one day at a time by
``facts.update_day`` (the worker's periodic job ``clinicflow.analytics.owner.jobs.refresh_facts``)."""

from __future__ import annotations

from django.db import models

from clinicflow.core.models import Branch, TenantModel


class DayFact(TenantModel):
    """Counts of one branch's local day. ``branch`` null: calls and leads tied to no branch."""

    branch = models.ForeignKey(Branch, null=True, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    appointments = models.IntegerField(default=0)  # every appointment starting that day, any status
    no_shows = models.IntegerField(default=0)
    happened = models.IntegerField(default=0)  # arrived or done
    first_booked = models.IntegerField(default=0)  # patients whose booked first visit starts that day
    first_arrived = models.IntegerField(default=0)  # patients whose first visit that happened starts then
    calls = models.IntegerField(default=0)
    unique_calls = models.IntegerField(default=0)
    missed_calls = models.IntegerField(default=0)
    leads = models.IntegerField(default=0)
    new_patients = models.IntegerField(default=0)  # patient cards created that day (home branch)

    class Meta:
        indexes = [models.Index(fields=["organization", "day", "branch"], name="dayfact_org_day_idx")]


class RevenueFact(TenantModel):
    """Net revenue (payments less refunds) of one branch's local day per currency, doctor, service and
    whether it is first-visit revenue: paid for an appointment on the local day of the patient's first
    visit that happened (the consultation and what was done after it that day; seed 004's "about a
    third"). No service: a payment for no appointment (a membership, a prepayment)."""

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    currency = models.CharField(max_length=3)
    doctor_id = models.UUIDField(null=True)
    service_id = models.UUIDField(null=True)
    first = models.BooleanField(default=False)
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    payments = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["organization", "day", "branch"], name="revfact_org_day_idx")]
