"""The front desk's daily facts (``owner.admin_facts``, issue #17) give the administrators report and the
scorecards' front-desk part what the raw calls give, and the traffic facts (``owner.traffic_facts``) give
the channel and campaign reports the sessions, leads and calls the raw tables give: on a simulated clinic with a branch in another
time zone (Moscow and Novosibirsk), calls late in the UTC evening (another local day east) and calls
tied to no branch, each branch's rows (its local days) and the chain's (UTC days) equal the former
computation from the raw calls (kept below as the reference), after the full rebuild and after user
changes applied incrementally (a first visit booked after a call, a first visit moved before one, a score
changed, a call deleted, new calls)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import pytest
from django.db.models import Avg, Count, F, OuterRef, Q, Subquery

from clinicflow.acquisition.models import Call, CallStatus, Channel, Lead, WebSession
from clinicflow.analytics.models import AdminDayFact, FactsChange, TrafficDayFact
from clinicflow.analytics.owner.admin_facts import build_admin_facts
from clinicflow.analytics.owner.changes import apply_changes
from clinicflow.analytics.owner.facts import rebuild
from clinicflow.analytics.owner.traffic_facts import COUNTS as TRAFFIC
from clinicflow.analytics.owner.traffic_facts import build_traffic_facts
from clinicflow.analytics.reports.acquisition import administrator_rows
from clinicflow.analytics.reports.acquisition.administrators import raw_administrator_rows
from clinicflow.analytics.reports.acquisition.first_patients import first_visit_times
from clinicflow.analytics.reports.acquisition.traffic import traffic
from clinicflow.analytics.reports.base import period_bounds, ratio
from clinicflow.booking.models import Appointment, AppointmentStatus
from clinicflow.core.models import Branch, Organization
from clinicflow.core.selectors import branch_list
from clinicflow.patients.models import Patient
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario


def reference_rows(
    *, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None = None
) -> list[dict[str, Any]]:
    """The administrators report as it was computed before its facts (from the raw calls, a grouped
    subquery of first visits per call): the reference."""
    start, end = period_bounds(date_from, date_to, branch)
    firsts = first_visit_times(org=org).filter(patient_id=OuterRef("patient_id"))
    qs = Call.objects.for_org(org).filter(
        started_at__gte=start, started_at__lt=end, is_unique=True, administrator__isnull=False
    )
    if branch is not None:
        qs = qs.filter(branch=branch)
    annotated = qs.annotate(
        fb_at=Subquery(firsts.values("booked_at")[:1]),
        fa_at=Subquery(firsts.values("arrived_at")[:1]),
    )
    rows = (
        annotated.values("administrator_id", "administrator__full_name", "administrator__email")
        .annotate(
            unique_calls=Count("id"),
            booked=Count("id", filter=Q(patient__isnull=False, fb_at__gte=F("started_at"))),
            arrived=Count("id", filter=Q(patient__isnull=False, fa_at__gte=F("started_at"))),
            avg_score=Avg("score"),
        )
        .order_by("administrator__full_name", "administrator_id")
    )
    return [
        {
            "administrator": r["administrator__full_name"] or r["administrator__email"],
            "administrator_id": str(r["administrator_id"]),
            "unique_calls": r["unique_calls"],
            "booked": r["booked"],
            "arrived": r["arrived"],
            "booked_conversion": ratio(r["booked"], r["unique_calls"]),
            "arrived_conversion": ratio(r["arrived"], r["unique_calls"]),
            "avg_score": round(float(r["avg_score"]), 1) if r["avg_score"] is not None else None,
        }
        for r in rows
    ]


def reference_traffic(
    *, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None, group: str
) -> dict[Any, tuple[int, ...]]:
    """The channel report's sessions, leads and calls as computed before their facts (raw tables)."""
    key = "channel_id" if group == "channel" else "campaign_id"
    start, end = period_bounds(date_from, date_to, branch)
    out: dict[Any, list[int]] = defaultdict(lambda: [0] * 5)

    def scoped(qs: Any, at_field: str) -> Any:
        qs = qs.filter(**{f"{at_field}__gte": start, f"{at_field}__lt": end})
        return qs.filter(branch=branch) if branch is not None else qs

    for r in scoped(WebSession.objects.for_org(org), "started_at").values(key).annotate(n=Count("id")):
        out[r[key]][0] += r["n"]
    for r in scoped(Lead.objects.for_org(org), "created_at").values(key).annotate(n=Count("id")):
        out[r[key]][1] += r["n"]
    calls = scoped(Call.objects.for_org(org), "started_at").values(key)
    for r in calls.annotate(
        n=Count("id"),
        u=Count("id", filter=Q(is_unique=True)),
        m=Count("id", filter=Q(status=CallStatus.MISSED)),
    ):
        out[r[key]][2:] = [out[r[key]][2] + r["n"], out[r[key]][3] + r["u"], out[r[key]][4] + r["m"]]
    return {k: tuple(v) for k, v in out.items()}


def _traffic_equal(org: Organization, d0: dt.date, d1: dt.date) -> int:
    """The channel and campaign reports' traffic read from the facts equals the reference; keys seen."""
    seen = 0
    for a, b in _windows(d0, d1):
        for branch in [None, *branch_list(org=org)]:
            for group in ("channel", "campaign"):
                mine = traffic(org=org, date_from=a, date_to=b, branch=branch, group=group)
                got = {
                    k: (t.sessions, t.leads, t.calls, t.unique_calls, t.missed)
                    for k, t in mine.items()
                    if t.sessions or t.leads or t.calls
                }
                expected = reference_traffic(org=org, date_from=a, date_to=b, branch=branch, group=group)
                assert got == expected, (a, b, branch, group)
                seen += len(expected)
    return seen


def _windows(d0: dt.date, d1: dt.date) -> list[tuple[dt.date, dt.date]]:
    return [(d0, d1), (d0 + dt.timedelta(days=33), d1 - dt.timedelta(days=19)), (d1, d1)]


def _assert_equal(org: Organization, d0: dt.date, d1: dt.date) -> int:
    """Every window, every branch and the chain: the facts' rows equal the reference; rows compared."""
    compared = 0
    for a, b in _windows(d0, d1):
        for branch in [None, *branch_list(org=org)]:
            expected = reference_rows(org=org, date_from=a, date_to=b, branch=branch)
            assert administrator_rows(org=org, date_from=a, date_to=b, branch=branch) == expected
            assert raw_administrator_rows(org=org, date_from=a, date_to=b, branch=branch) == expected
            compared += len(expected)
    return compared


def _late_and_branchless(org: Organization) -> None:
    """Some calls moved late into the UTC evening (the next local day in Novosibirsk, not in UTC) and
    some tied to no branch, with odd scores (mean rounding)."""
    calls = list(Call.objects.for_org(org).filter(is_unique=True, administrator__isnull=False).order_by("id"))
    for i, c in enumerate(calls[::9]):
        c.started_at = c.started_at.replace(hour=21, minute=40)
        c.score = None if i % 5 == 0 else c.score
        if i % 4 == 0:
            c.branch = None
        if i % 7 == 0:
            c.score = 33.3 + i % 3 / 10
    Call.objects.bulk_update(calls[::9], ["started_at", "branch", "score"])


@pytest.fixture
def clinic(org: Organization) -> tuple[Organization, dt.date, dt.date]:
    result = simulate_org(
        org=org,
        scenario=load_scenario(overrides={"clinic": {"months": 3, "end_date": "2026-11-30"}}),
        seed=17,
    )
    _late_and_branchless(org)
    rebuild(org)  # the facts' full rebuild (its hook builds the front desk's facts)
    FactsChange.objects.for_org(org).delete()  # bulk writes record nothing
    d0 = dt.date.fromisoformat(result.truth["start_date"])
    return org, d0, dt.date.fromisoformat(result.truth["end_date"])


def _snapshot(org: Organization) -> list[tuple[Any, ...]]:
    return sorted(
        AdminDayFact.objects.for_org(org).values_list(
            "branch_id",
            "day",
            "utc_day",
            "administrator_id",
            "unique_calls",
            "booked",
            "arrived",
            "scored",
            "score_tenths",
        ),
        key=str,
    )


@pytest.mark.django_db
def test_admin_facts_equal_the_raw_calls_after_rebuild_and_changes(
    clinic, django_assert_max_num_queries
) -> None:
    org, d0, d1 = clinic
    assert {b.timezone for b in branch_list(org=org)} == {"Europe/Moscow", "Asia/Novosibirsk"}
    facts = AdminDayFact.objects.for_org(org)
    assert facts.filter(branch=None).exists()  # calls tied to no branch
    assert facts.exclude(day=F("utc_day")).exists()  # a local day that is not the UTC day
    assert _assert_equal(org, d0, d1) >= 20
    rows = administrator_rows(org=org, date_from=d0, date_to=d1)
    assert sum(r["booked"] for r in rows) > 0 and sum(r["arrived"] for r in rows) > 0
    traffic_facts = TrafficDayFact.objects.for_org(org)
    assert traffic_facts.filter(branch=None).exists() and traffic_facts.filter(sessions__gt=0).exists()
    assert _traffic_equal(org, d0, d1) >= 20
    # then user changes, applied incrementally (one simulation for both: it is the slow part)
    before = _snapshot(org)
    calls = Call.objects.for_org(org).filter(is_unique=True, administrator__isnull=False)
    template = calls.exclude(branch=None).order_by("started_at").first()
    assert template is not None
    # a new caller (no appointment yet) whose first visit is booked a month later: the call flips
    fresh = Patient.objects.create(
        organization=org, branch=template.branch, first_name="New", last_name="Caller"
    )
    call_at = dt.datetime.combine(d1 - dt.timedelta(days=40), dt.time(20, 50), tzinfo=dt.UTC)
    Call.objects.create(
        organization=org,
        provider=template.provider,
        provider_call_id="chanadm-1",
        branch=template.branch,
        started_at=call_at,
        status=template.status,
        administrator=template.administrator,
        is_unique=True,
        patient=fresh,
        score=71.7,
    )
    booked = Appointment.objects.for_org(org).filter(status=AppointmentStatus.DONE).first()
    assert booked is not None
    booked.pk = None
    booked.patient = fresh
    shift = call_at + dt.timedelta(days=30) - booked.start_at
    booked.start_at, booked.end_at = booked.start_at + shift, booked.end_at + shift
    booked.busy_until += shift
    booked.save()
    # a caller's first visit moved before the call: the call no longer converted (booked flips)
    caller = calls.exclude(patient=None).filter(started_at__lt=call_at).order_by("-started_at").first()
    assert caller is not None
    first = Appointment.objects.for_org(org).filter(patient_id=caller.patient_id).order_by("start_at").first()
    assert first is not None
    back = first.start_at - (caller.started_at - dt.timedelta(days=2))
    first.start_at, first.end_at, first.busy_until = (
        first.start_at - back,
        first.end_at - back,
        first.busy_until - back,
    )
    first.save()
    # a score changed, a call deleted, a call tied to no branch
    scored = calls.exclude(score=None).order_by("-started_at").first()
    assert scored is not None
    scored.score = 12.5
    scored.save()
    gone = calls.order_by("started_at")[5]
    gone.delete()
    Call.objects.create(
        organization=org,
        provider=template.provider,
        provider_call_id="chanadm-2",
        branch=None,
        started_at=call_at - dt.timedelta(days=3),
        status=template.status,
        administrator=template.administrator,
        is_unique=True,
    )
    # traffic: a web session started, a lead, a missed call tied to no branch
    channel = Channel.objects.for_org(org).first()
    WebSession.objects.create(
        organization=org, client_id="chanadm", started_at=call_at, branch=template.branch, channel=channel
    )
    Lead.objects.create(organization=org, created_at=call_at, branch=template.branch, channel=channel)
    Call.objects.create(
        organization=org,
        provider=template.provider,
        provider_call_id="chanadm-3",
        started_at=call_at + dt.timedelta(hours=2),
        status=CallStatus.MISSED,
        channel=channel,
    )
    assert FactsChange.objects.for_org(org).exists()
    apply_changes(org)
    assert _traffic_equal(org, d0, d1) >= 20
    traffic_after = sorted(
        traffic_facts.values_list("branch_id", "day", "channel_id", "campaign_id", *TRAFFIC), key=str
    )
    build_traffic_facts(org)
    rebuilt = traffic_facts.values_list("branch_id", "day", "channel_id", "campaign_id", *TRAFFIC)
    assert sorted(rebuilt, key=str) == traffic_after
    after = _snapshot(org)
    assert after != before
    assert _assert_equal(org, d0, d1) >= 20
    # incremental equals a full build of the same rows
    build_admin_facts(org)
    assert _snapshot(org) == after
    # the report reads one statement from the facts
    with django_assert_max_num_queries(1):
        administrator_rows(org=org, date_from=d0, date_to=d1)
