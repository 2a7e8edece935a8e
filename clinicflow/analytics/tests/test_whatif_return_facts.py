"""The planner's return visits (``pricing.return_facts``, issue #18's speed): on a simulated clinic whose
branches keep two clocks, the gaps' bins and the links since a month grouped by the database equal the
visits read one by one in Python (the reference kept here), and so do the patients seen on a span of
local days (the lapsed list's reach); the return facts built by the full rebuild
give the same figures, and so do they after appointments move, stop having happened or are added and
only the changed local days are built again (the incremental update's call)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest

from clinicflow.acquisition.attribution import HAPPENED
from clinicflow.analytics.pricing.grouped import GAP_EDGES, TAIL_DAYS
from clinicflow.analytics.pricing.return_facts import (
    build_return_facts,
    facts_built,
    gap_bins,
    link_rows,
    patients_seen,
)
from clinicflow.analytics.pricing.return_models import ReturnGapFact, ReturnLinkFact
from clinicflow.booking.models import Appointment
from clinicflow.core.models import Branch, Organization
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

END = dt.date(2026, 11, 30)
SINCES = (dt.date(2026, 6, 1), dt.date(2026, 8, 1), dt.date(2026, 11, 1))
GAP_FROM = (dt.date(2026, 4, 1), dt.date(2026, 9, 1))
SEEN = (
    (None, dt.date(2026, 9, 30)),
    (dt.date(2026, 8, 15), dt.date(2026, 10, 13)),
    (dt.date(2026, 11, 1), END),
)


def _number(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


def reference(org: Organization, currency: str = "RUB") -> list[dict[str, Any]]:
    """Every visit in ``currency`` with its local day, month number, previous visit's month number and
    the gap's bin, patient by patient in time order (ties by id)."""
    zones = {b.pk: b.tz for b in Branch.objects.for_org(org)}
    rows = sorted(
        Appointment.objects.for_org(org)
        .filter(status__in=HAPPENED, currency=currency)
        .values_list("patient_id", "start_at", "id", "branch_id", "price"),
        key=lambda r: (str(r[0]), r[1], str(r[2])),
    )
    out: list[dict[str, Any]] = []
    prev: dict[str, Any] | None = None
    for patient, at, _pk, branch, price in rows:
        day = at.astimezone(zones[branch]).date()
        same = prev is not None and prev["p"] == patient
        gap = (at - prev["t"]).total_seconds() / 86400 if same and prev is not None else None
        if gap is None:
            g = len(GAP_EDGES)
        elif gap < GAP_EDGES[-1]:
            g = sum(gap >= d for d in GAP_EDGES)
        else:
            g = len(GAP_EDGES) + 1 if gap < TAIL_DAYS else len(GAP_EDGES)
        row = {"p": patient, "t": at, "day": day, "m": _number(day), "price": price, "g": g}
        row["pm"] = prev["m"] if same and prev is not None else None
        out.append(row)
        prev = row
    return out


def ref_bins(visits: list[dict[str, Any]], d0: dt.date, d1: dt.date) -> list[int]:
    bins = [0] * (len(GAP_EDGES) + 2)
    for v in visits:
        if d0 <= v["day"] <= d1:
            bins[v["g"]] += 1
    return bins


def ref_links(visits: list[dict[str, Any]], since: dt.date, d1: dt.date) -> dict[Any, Decimal]:
    """Each visit's gaps since ``since`` (the visit before in that month or later) per bin up to it."""
    s = _number(since)
    groups: dict[Any, Decimal] = defaultdict(Decimal)
    counts: list[int] = []
    patient: uuid.UUID | None = None
    for v in visits:
        if v["p"] != patient:
            patient, counts = v["p"], [0] * len(GAP_EDGES)
        if v["pm"] is not None and v["pm"] >= s and v["g"] > 0:
            counts[min(v["g"], len(GAP_EDGES)) - 1] += 1
        if since <= v["day"] <= d1:
            groups[(dt.date(v["day"].year, v["day"].month, 1), tuple(counts))] += v["price"]
    return dict(groups)


def _links(org: Organization, since: dt.date, facts: bool) -> dict[Any, Decimal]:
    return {(m, c): a for m, c, a in link_rows(org=org, since=since, d1=END, currency="RUB", facts=facts)}


def _same(got: dict[Any, Decimal], want: dict[Any, Decimal]) -> None:
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert float(got[key]) == pytest.approx(float(value), abs=1e-6)


@pytest.fixture
def clinic(org: Organization) -> Organization:
    simulate_org(
        org=org,
        scenario=load_scenario(overrides={"clinic": {"months": 8, "end_date": END.isoformat()}}),
        seed=7,
    )
    return org


@pytest.mark.django_db
def test_the_return_visits_grouped_by_the_database_equal_the_visits_read_one_by_one(clinic) -> None:
    org = clinic
    assert len({b.timezone for b in Branch.objects.for_org(org)}) > 1
    visits = reference(org)
    for since in SINCES:
        want = ref_links(visits, since, END)
        _same(_links(org, since, facts=False), want)
        # returns after the month and a patient reached through two of them or more
        assert any(sum(c) >= 2 for _, c in want)
    for d0 in GAP_FROM:
        bins = gap_bins(org=org, d0=d0, d1=END, currency="RUB", facts=False)
        assert bins == ref_bins(visits, d0, END) and all(bins[1:])
    for d0, d1 in SEEN:
        want = len({v["p"] for v in visits if (d0 is None or d0 <= v["day"]) and v["day"] <= d1})
        assert patients_seen(org=org, d0=d0, d1=d1, currency="RUB", facts=False) == want > 0


@pytest.mark.django_db
def test_the_return_facts_give_the_raw_figures_after_a_rebuild_and_after_changed_days(clinic) -> None:
    org = clinic
    assert not facts_built(org)
    assert build_return_facts(org) > 0 and facts_built(org)

    def check() -> None:
        for since in SINCES:
            _same(_links(org, since, facts=True), _links(org, since, facts=False))
        for d0 in GAP_FROM:
            raw = gap_bins(org=org, d0=d0, d1=END, currency="RUB", facts=False)
            assert gap_bins(org=org, d0=d0, d1=END, currency="RUB", facts=True) == raw
        for d0, d1 in SEEN[1:]:
            raw_seen = patients_seen(org=org, d0=d0, d1=d1, currency="RUB", facts=False)
            assert patients_seen(org=org, d0=d0, d1=d1, currency="RUB", facts=True) == raw_seen

    check()
    zones = {b.pk: b.tz for b in Branch.objects.for_org(org)}
    visits = list(
        Appointment.objects.for_org(org)
        .filter(status__in=HAPPENED, start_at__gte=dt.datetime(2026, 7, 1, tzinfo=dt.UTC))
        .order_by("start_at")[:400:40]
    )
    days: set[dt.date] = set()

    def night(visit: Appointment, later: int, i: int) -> tuple[dt.datetime, dt.datetime]:
        """A slot ``later`` days on at night on the branch's clock (no doctor's or room's overlap)."""
        tz = zones[visit.branch_id]
        day = visit.start_at.astimezone(tz).date() + dt.timedelta(days=later)
        start = dt.datetime.combine(day, dt.time(2, 0), tzinfo=tz) + dt.timedelta(minutes=11 * i)
        days.add(day)
        return start, start + dt.timedelta(minutes=10)

    for i, visit in enumerate(visits):
        days.add(visit.start_at.astimezone(zones[visit.branch_id]).date())
        if i % 3 == 0:  # moved three weeks on
            visit.start_at, visit.end_at = night(visit, 21, i)
            visit.busy_until, visit.room_id = visit.end_at, None
        elif i % 3 == 1:  # no longer happened
            visit.status = "no_show"
        else:  # a second visit of the patient two weeks later
            start, end = night(visit, 14, i)
            Appointment.objects.create(
                organization=org,
                branch_id=visit.branch_id,
                patient_id=visit.patient_id,
                doctor_id=visit.doctor_id,
                service_id=visit.service_id,
                start_at=start,
                end_at=end,
                busy_until=end,
                status="done",
                price=Decimal("1234.50"),
                currency=visit.currency,
            )
        visit.save()
    before = ReturnLinkFact.objects.for_org(org).count() + ReturnGapFact.objects.for_org(org).count()
    assert build_return_facts(org, sorted(days)) > 0
    assert ReturnLinkFact.objects.for_org(org).count() + ReturnGapFact.objects.for_org(org).count() > 0
    assert before > 0
    check()


@pytest.mark.django_db
def test_a_deleted_visit_reaches_its_patients_later_return_facts(clinic) -> None:
    """A visit deleted (not cancelled): its patient has no appointment left on its day, yet their later
    visits' gaps and links change; the incremental update names the changed patients."""
    org = clinic
    zones = {b.pk: b.tz for b in Branch.objects.for_org(org)}
    # the earliest visit's patient seen once more three days before anyone else's visit: nothing near
    # that day is left once it is deleted, and their first visit's gap is no longer "none"
    first = Appointment.objects.for_org(org).filter(status__in=HAPPENED).order_by("start_at").first()
    earliest = Appointment.objects.for_org(org).order_by("start_at").values_list("start_at", flat=True)[0]
    assert first is not None and first.start_at - earliest < dt.timedelta(days=20)
    tz = zones[first.branch_id]
    day = earliest.astimezone(tz).date() - dt.timedelta(days=3)
    start = dt.datetime.combine(day, dt.time(2, 0), tzinfo=tz)
    extra = Appointment.objects.create(
        organization=org,
        branch_id=first.branch_id,
        patient_id=first.patient_id,
        doctor_id=first.doctor_id,
        service_id=first.service_id,
        start_at=start,
        end_at=start + dt.timedelta(minutes=10),
        busy_until=start + dt.timedelta(minutes=10),
        status="done",
        price=Decimal("1234.50"),
        currency=first.currency,
    )
    build_return_facts(org)
    extra.delete()  # a visit entered by mistake (nothing paid or recorded on it)
    raw = gap_bins(org=org, d0=day, d1=END, currency="RUB", facts=False)
    build_return_facts(org, [day])  # the day alone: the patient's later visit is not reached
    assert gap_bins(org=org, d0=day, d1=END, currency="RUB", facts=True) != raw
    build_return_facts(org, [day], [first.patient_id])  # with the changed patient (``changes``)
    assert gap_bins(org=org, d0=day, d1=END, currency="RUB", facts=True) == raw
    for since in SINCES:
        _same(_links(org, since, facts=True), _links(org, since, facts=False))
