"""Daily facts (issue #17): per organisation, branch and the branch's local day, the figures the owner's
reports read instead of the raw tables. Rebuilt from the raw tables by
``clinicflow.analytics.owner.facts.rebuild`` and kept current from the changes recorded in the same
transaction (``FactsChange``, applied within a minute by ``owner.jobs.apply_recorded_changes``)."""

from __future__ import annotations

from django.db import models

from clinicflow.core.models import Branch, Organization, TenantModel


def derived_fk(
    to: type[models.Model], *, null: bool = False, on_delete: object = models.CASCADE
) -> models.ForeignKey:  # type: ignore[type-arg]
    """A fact's organisation or branch: no constraint in the database (Django's ``on_delete`` still
    applies). The facts are derived rows, deleted and written again in bulk; a deferred foreign-key
    check per row and key at COMMIT cost more than writing the rows (2.3 s for 107,000 revenue facts
    with two keys against 0.8 s for the inserts, ``docs/benchmarks.md``)."""
    return models.ForeignKey(
        to,
        null=null,
        on_delete=on_delete,  # type: ignore[arg-type]
        related_name="+",
        db_index=False,
        db_constraint=False,
    )


class DayFact(TenantModel):
    """Counts of one branch's local day. ``branch`` null: calls and leads tied to no branch."""

    organization = derived_fk(Organization, on_delete=models.PROTECT)
    branch = derived_fk(Branch, null=True)
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
    # the lifecycle funnel of the first patients whose first visit that happened is that day (counted on
    # that day, their flags read to date): treated, returned within 183 days, third visit, referral,
    # satisfied (an answer with NPS 9-10 or result at least as expected)
    treated = models.IntegerField(default=0)
    returned = models.IntegerField(default=0)
    third = models.IntegerField(default=0)
    referred = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)
    # survey answers given that day (the branch of the visit): all, promoters (9-10), detractors (0-6)
    answers = models.IntegerField(default=0)
    promoters = models.IntegerField(default=0)
    detractors = models.IntegerField(default=0)
    # load: the doctors' available and booked seconds of that day (the capacity report's definition)
    available_seconds = models.BigIntegerField(default=0)
    booked_seconds = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["organization", "day", "branch"], name="dayfact_org_day_idx")]


class RevenueFact(TenantModel):
    """Net revenue (payments less refunds) of one branch's local day per currency, doctor, service and
    whether it is first-visit revenue: paid for an appointment on the local day of the patient's first
    visit that happened (the consultation and what was done after it that day; seed 004's "about a
    third"). No service: a payment for no appointment (a membership, a prepayment)."""

    organization = derived_fk(Organization, on_delete=models.PROTECT)
    branch = derived_fk(Branch)
    day = models.DateField()
    currency = models.CharField(max_length=3)
    doctor_id = models.UUIDField(null=True)
    service_id = models.UUIDField(null=True)
    first = models.BooleanField(default=False)
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    payments = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["organization", "day", "branch"], name="revfact_org_day_idx")]


class CohortFact(TenantModel):
    """The first patients of one branch's local day (``day``; ``cohort``: its month, year × 12 + month
    − 1) ``k`` months after: with no currency, their count (k = 0) and those with a visit that happened
    in month k (k ≥ 1); with a currency, their net revenue paid in month k in cents (earlier at 0).
    Months on the branch's clock."""

    organization = derived_fk(Organization, on_delete=models.PROTECT)
    branch = derived_fk(Branch)
    day = models.DateField()
    cohort = models.IntegerField()
    k = models.IntegerField()
    currency = models.CharField(max_length=3, blank=True)
    patients = models.IntegerField(default=0)
    active = models.IntegerField(default=0)
    cents = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["organization", "day", "branch"], name="cohortfact_org_day_idx")]


class FirstDoctorFact(TenantModel):
    """The first patients of one branch's local day per doctor of their first visit: with no currency,
    how many and their visits that happened (to date); with a currency, their net revenue to date in
    cents (the balanced doctor)."""

    organization = derived_fk(Organization, on_delete=models.PROTECT)
    branch = derived_fk(Branch)
    day = models.DateField()
    doctor_id = models.UUIDField()
    currency = models.CharField(max_length=3, blank=True)
    patients = models.IntegerField(default=0)
    visits = models.IntegerField(default=0)
    cents = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["organization", "day", "branch"], name="firstdoc_org_day_idx")]


class FactsChange(TenantModel):
    """A raw row changed that the daily facts must follow (recorded by ``owner.signals`` in the same
    transaction as the change; applied and deleted by the worker's ``owner.jobs.apply_changes`` within a
    minute). ``at``/``branch_id``: the moment whose local day changed; for an appointment, also what it
    was before the change (``was_start`` None: created), so its patient's former first visit is known."""

    patient_id = models.UUIDField(null=True)
    branch_id = models.UUIDField(null=True)
    at = models.DateTimeField()
    appointment_id = models.UUIDField(null=True)
    was_start = models.DateTimeField(null=True)
    was_status = models.CharField(max_length=12, blank=True)
    was_branch_id = models.UUIDField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "created_at"], name="factschange_org_at_idx")]


# saved what-if scenarios and the hypothesis log (issue #18)
from clinicflow.analytics.pricing.models import Hypothesis, HypothesisStatus, PlanScenario  # noqa: E402, F401


class ScorecardWeight(TenantModel):
    """The owner's weight of one part of a department's scorecard (``owner.scorecards.DEPARTMENTS``
    names the parts and their default weights; a row overrides one)."""

    department = models.CharField(max_length=20)
    part = models.CharField(max_length=30)
    weight = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "department", "part"], name="scoreweight_org_part_uniq"
            )
        ]


# the owner's alerts: thresholds, findings of the daily check, e-mail opt-ins (issue #17)
# the front desk's counts per branch, local day and administrator, and the channels' traffic per
# branch, local day, channel and campaign (issue #17, ``owner.admin_facts``, ``owner.traffic_facts``)
from clinicflow.analytics.owner.admin_models import AdminDayFact  # noqa: E402, F401
from clinicflow.analytics.owner.alert_models import (  # noqa: E402, F401
    AlertRule,
    AlertState,
    AlertSubscription,
    OwnerAlert,
)

# the capacity report's load per branch, day, hour and doctor or room (issue #17, ``owner.capload_facts``)
from clinicflow.analytics.owner.capload_models import CapacityFact  # noqa: E402, F401

# the channel and campaign reports' first patients per attribution model (issue #17, ``owner.chan_facts``)
from clinicflow.analytics.owner.chan_models import ChanFirstFact  # noqa: E402, F401

# each patient's first visits where the daily facts count them (issue #17, ``owner.facts_sql``)
from clinicflow.analytics.owner.first_models import FirstVisitFact  # noqa: E402, F401

# the scorecards' and balanced doctor's facts (issue #17, ``owner.score_facts``)
from clinicflow.analytics.owner.score_models import AnswerDayFact, ComplicationDayFact, ScoreDayFact  # noqa: E402, F401

# the day's revenue split into first-visit, repeat and other (issue #17, ``owner.split_facts``)
from clinicflow.analytics.owner.split_facts import RevenueSplitFact  # noqa: E402, F401
from clinicflow.analytics.owner.traffic_facts import TrafficDayFact  # noqa: E402, F401

# the patients' lifetime value ranked and classed (issue #17, ``owner.value_facts``)
from clinicflow.analytics.owner.value_models import PatientValueFact, ValueClassFact  # noqa: E402, F401
