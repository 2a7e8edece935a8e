"""The channel and campaign reports read their first patients from the daily facts (``ChanFirstFact``,
``owner.chan_facts`` / ``chan_reads``) and show what the raw attribution statement shows: on a simulated
chain with a branch in another time zone (Moscow and Novosibirsk) keeping another currency (EUR
payments, some late at night, EUR spend and predictions), a first visit booked in two branches at
once, and stored predictions, every row, total and note of the report is equal from the facts and
from the raw statement — per channel and per campaign, several periods, each branch and the whole
chain, for the default attribution model (the facts' ``FACT_MODELS``; the others read the raw
statement). The facts follow the incremental update and a new set of stored predictions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from clinicflow.analytics.models import ChanFirstFact, FactsChange
from clinicflow.analytics.owner import chan_facts
from clinicflow.analytics.owner.chan_models import FACT_MODELS
from clinicflow.analytics.owner.chan_reads import first_patient_rows
from clinicflow.analytics.owner.changes import apply_changes
from clinicflow.analytics.owner.fact_hooks import build_owner_facts, predictions_stored
from clinicflow.analytics.owner.facts import rebuild
from clinicflow.analytics.reports.acquisition import channel_report
from clinicflow.analytics.reports.acquisition.channels import ChannelReport
from clinicflow.analytics.tests.test_owner_channel_facts import spend_and_predictions
from clinicflow.booking.models import Appointment, AppointmentStatus, Payment
from clinicflow.booking.services.payments import payment_record
from clinicflow.core.models import Branch, Organization
from clinicflow.core.money import Money
from clinicflow.core.selectors import branch_list
from clinicflow.patients.models import PatientPrediction
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

MODELS = ("last_non_direct", "first_touch", "linear")  # the report's choices
KEY = (
    "branch_id",
    "day",
    "utc_day",
    "part",
    "model",
    "channel_id",
    "campaign_id",
    "den",
    "kind",
    "currency",
    "paid_day",
    "paid_utc",
)


def chan_snapshot(org: Organization) -> list[tuple[Any, ...]]:
    """Every fact summed per key (rows split differently compare equal)."""
    sums: dict[tuple[Any, ...], list[Any]] = {}
    for row in ChanFirstFact.objects.for_org(org).values_list(*KEY, "booked", "arrived", "cents", "until"):
        cell = sums.setdefault(row[: len(KEY)], [0, 0, 0, None])
        for i, v in enumerate(row[len(KEY) : len(KEY) + 3]):
            cell[i] += v
        until = row[-1]
        cell[3] = until if cell[3] is None or (until is not None and until > cell[3]) else cell[3]
    return sorted(((*k, *v) for k, v in sums.items() if any(v)), key=str)


@pytest.fixture
def chain(org: Organization) -> tuple[Organization, dt.date, dt.date]:
    result = simulate_org(
        org=org,
        scenario=load_scenario(overrides={"clinic": {"months": 4, "end_date": "2026-11-30"}}),
        seed=17,
    )
    east = Branch.objects.get(organization=org, slug="novosibirsk")
    east.currency = "EUR"
    east.save()
    pays = list(Payment.objects.for_org(org).exclude(appointment=None).order_by("paid_at")[:80])
    for p in pays[1::4]:  # EUR payments, some late at night (another local day east, another UTC day)
        Payment.objects.create(
            organization=org,
            branch_id=p.branch_id,
            patient_id=p.patient_id,
            kind=p.kind,
            amount=Decimal("10.05"),
            currency="EUR",
            method=p.method,
            paid_at=p.paid_at.replace(hour=20, minute=30),
        )
    # two first visits booked at one moment in both branches (cancelled in the other one)
    other = {b.pk: b for b in branch_list(org=org)}
    firsts = Appointment.objects.for_org(org).filter(is_first_visit=True, status=AppointmentStatus.DONE)
    for a in list(firsts.order_by("start_at")[10:30:10]):
        twin = next(b for pk, b in other.items() if pk != a.branch_id)
        a.pk, a.branch, a.status = None, twin, AppointmentStatus.CANCELLED
        Appointment.objects.bulk_create([a])
    d0 = spend_and_predictions(org, result.truth, east)
    build_owner_facts(org)
    FactsChange.objects.for_org(org).delete()  # written in bulk above: the facts are built after
    return org, d0, dt.date.fromisoformat(result.truth["end_date"])


def _same(report: ChannelReport, raw: ChannelReport) -> None:
    assert report.rows() == raw.rows()
    assert report.totals() == raw.totals()
    assert report.notes() == raw.notes()
    assert (report.currency, report.until) == (raw.currency, raw.until)


def _equal_everywhere(org: Organization, windows: list[tuple[dt.date, dt.date]]) -> int:
    """Every report from the facts against the raw statement; returns how many had first patients."""
    compared = 0
    for a, b in windows:
        for branch in [None, *branch_list(org=org)]:
            for model in MODELS:
                for group in ("channel", "campaign"):
                    args: dict[str, Any] = {
                        "org": org,
                        "date_from": a,
                        "date_to": b,
                        "branch": branch,
                        "model": model,
                        "group": group,
                    }
                    read = first_patient_rows(**args)  # None: the raw statement
                    assert (read is not None) == (model in FACT_MODELS)
                    report = channel_report(**args)
                    _same(report, channel_report(**args, facts=False))
                    compared += any(line.first.arrived for line in report.lines)
    return compared


@pytest.mark.django_db
def test_the_report_from_the_facts_equals_the_raw_statement(chain) -> None:
    org, d0, d1 = chain
    assert {b.timezone for b in branch_list(org=org)} == {"Europe/Moscow", "Asia/Novosibirsk"}
    windows = [(d0, d1), (d0 + dt.timedelta(days=33), d1 - dt.timedelta(days=19)), (d1, d1)]
    assert _equal_everywhere(org, windows) >= 30
    # what was compared is not trivial: both currencies, the predictions, a first visit counted by one
    # branch only (booked at once in two)
    whole = channel_report(org=org, date_from=d0, date_to=d1)
    assert whole.until is not None and whole.elsewhere()["revenue"] and whole.elsewhere()["future"]
    assert ChanFirstFact.objects.for_org(org).filter(part=1).exists()


@pytest.mark.django_db
def test_the_facts_follow_changes_and_new_predictions(chain) -> None:
    org, d0, d1 = chain
    first = (
        Appointment.objects.for_org(org)
        .filter(is_first_visit=True, status=AppointmentStatus.DONE, start_at__date__gte=d0)
        .select_related("patient", "branch")
        .order_by("start_at")
    )
    late, moved = first[5], first[12]
    payment_record(  # a first patient pays again, in EUR, late at night
        org=org,
        actor=None,
        patient=late.patient,
        branch=late.branch,
        amount=Money(Decimal("99.90"), "EUR"),
        method="card",
        appointment=late,
        paid_at=late.start_at.replace(hour=22) + dt.timedelta(days=3),
    )
    shift = dt.timedelta(days=9, hours=5)  # a first visit moved to another day
    moved.start_at, moved.end_at, moved.busy_until = (
        moved.start_at + shift,
        moved.end_at + shift,
        moved.busy_until + shift,
    )
    moved.save()
    while apply_changes(org).changes:
        pass
    incremental = chan_snapshot(org)
    build_owner_facts(org)
    assert incremental == chan_snapshot(org)
    _equal_everywhere(org, [(d0, d1)])
    # a new set of stored predictions: another day, other values
    PatientPrediction.objects.for_org(org).update(until=d1 - dt.timedelta(days=5), clv=Decimal("50.00"))
    predictions_stored(org)
    _equal_everywhere(org, [(d0, d1)])


@pytest.mark.django_db
def test_some_days_built_again_equal_a_full_build(chain) -> None:
    org, d0, _d1 = chain
    full = chan_snapshot(org)
    days = {d0 + dt.timedelta(days=i) for i in (2, 3, 4, 40, 77)}
    ChanFirstFact.objects.for_org(org).filter(day__in=days).delete()
    assert chan_snapshot(org) != full
    build_owner_facts(org, days)
    assert chan_snapshot(org) == full


@pytest.mark.django_db
def test_the_full_rebuild_on_its_staged_first_visits_equals_a_build_from_the_appointments(
    chain, monkeypatch
) -> None:
    org, _d0, _d1 = chain
    built = chan_snapshot(org)  # the first visits grouped from the appointments (``credited_sql``)
    staged: list[bool] = []
    real = chan_facts._credited_of_staged

    def spy(o: Organization) -> Any:
        out = real(o)
        staged.append(out is not None)
        return out

    monkeypatch.setattr(chan_facts, "_credited_of_staged", spy)
    rebuild(org)  # PostgreSQL: every patient's first visits staged once, their branches the first-visit facts
    assert staged == [connection.vendor == "postgresql"]
    assert chan_snapshot(org) == built
