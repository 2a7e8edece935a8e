"""Planted truth of the capacity-aware campaign: the simulator texts a branch's patients about next
week's free hours of one room type, with a planted response; the load report of that week, branch and
room type rises by the minutes the responders booked — the planted response's share of the recipients,
within its sampling error — and nothing else moves (the same run without the campaign is the
counterfactual: same seed, same data)."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Any

import pytest

from clinicflow.analytics.reports.capacity import compute_load
from clinicflow.booking.models import Appointment, Room
from clinicflow.conftest import module_data
from clinicflow.core.models import Organization
from clinicflow.core.selectors import branch_list
from clinicflow.marketing.models import Campaign, Recipient
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario
from clinicflow.simulator.writers.marketing import CAPACITY_NAME

CAPACITY = {"response": 0.3, "fill": 0.8, "room_type": "laser", "branch": "moscow"}


@pytest.fixture(scope="module")
def runs(django_db_setup: Any, django_db_blocker: Any) -> Any:
    from clinicflow.core.services import organization_create

    out = {}
    with module_data(django_db_blocker):
        for enabled in (True, False):
            slug = "mkt-fill-on" if enabled else "mkt-fill-off"
            org = organization_create(name=slug, slug=slug, country="RU", currency="RUB")
            scn = load_scenario(
                "mid",
                overrides={
                    "clinic": {"months": 4, "end_date": "2026-06-30"},
                    "marketing": {"capacity": {**CAPACITY, "enabled": enabled}},
                },
            )
            out[enabled] = (org, simulate_org(org=org, scenario=scn, seed=7).truth)
        yield out


def _booked(org: Organization, monday: dt.date) -> dict[tuple[str, str], float]:
    """The load report's booked minutes of the week from ``monday``, per (branch, room type)."""
    out: dict[tuple[str, str], float] = defaultdict(float)
    for branch in branch_list(org=org):
        data = compute_load(org=org, branch=branch, date_from=monday, date_to=monday + dt.timedelta(days=6))
        types = {r.pk: r.room_type for r in Room.objects.for_org(org).filter(branch=branch)}
        for row in data.by_room():
            out[(branch.slug, types[row["key"]])] += row["booked"]
    return out


def _load(org: Organization, monday: dt.date, slug: str, room_type: str) -> float:
    branch = next(b for b in branch_list(org=org) if b.slug == slug)
    data = compute_load(org=org, branch=branch, date_from=monday, date_to=monday + dt.timedelta(days=6))
    types = {r.pk: r.room_type for r in Room.objects.for_org(org).filter(branch=branch)}
    rows = [r for r in data.by_room() if types[r["key"]] == room_type]
    return sum(r["booked"] for r in rows) / sum(r["available"] for r in rows)


@pytest.mark.django_db
def test_the_capacity_campaign_raises_next_weeks_load_of_its_branch_and_room_type_only(runs: Any) -> None:
    (org_on, truth), (org_off, truth_off) = runs[True], runs[False]
    cap = truth["marketing"]["capacity"]
    assert truth_off["marketing"]["capacity"] is None  # the counterfactual sent nothing
    assert cap["branch"] == "moscow" and cap["room_type"] == "laser"
    assert cap["planted"]["response"] == CAPACITY["response"]
    real = cap["realised"]
    monday = dt.date.fromisoformat(cap["week"][0])
    assert monday.weekday() == 0 and monday > dt.date.fromisoformat(cap["sent_day"])
    # the rise the load report shows, against the same run without the campaign
    rise: dict[tuple[str, str, int], float] = {}
    for week in (-1, 0, 1):
        start = monday + dt.timedelta(weeks=week)
        on, off = _booked(org_on, start), _booked(org_off, start)
        for key in set(on) | set(off):
            rise[(*key, week)] = on.get(key, 0.0) - off.get(key, 0.0)
    target = ("moscow", "laser", 0)
    assert rise[target] == real["booked_minutes"] > 0
    assert _load(org_on, monday, "moscow", "laser") > _load(org_off, monday, "moscow", "laser")
    # within sampling error of the planted response: recipients × response × the service's minutes
    n, p, minutes = real["recipients"], cap["planted"]["response"], cap["service_minutes"]
    assert real["turned_away"] == 0  # the clinic texted few enough to fit: the planted rate shows whole
    expected = n * p * minutes
    sd = math.sqrt(n * p * (1 - p)) * minutes
    assert abs(rise[target] - expected) <= 3 * sd, (rise[target], expected, sd)
    # nowhere else: the other room types and branch, the weeks before and after
    others = {k: v for k, v in rise.items() if k != target}
    assert len(others) >= 10 and all(v == 0 for v in others.values()), others


@pytest.mark.django_db
def test_the_capacity_campaign_is_written_with_its_slots_and_recipients(runs: Any) -> None:
    org, truth = runs[True]
    cap = truth["marketing"]["capacity"]
    campaign = Campaign.objects.for_org(org).get(name=CAPACITY_NAME)
    assert campaign.branch is not None and campaign.branch.slug == "moscow"
    assert campaign.service is not None and campaign.service.code == cap["service"]
    assert (
        campaign.days_ahead
        == (dt.date.fromisoformat(cap["week"][1]) - dt.date.fromisoformat(cap["sent_day"])).days
    )
    assert campaign.holdout_percent == 0 and campaign.audience.filters["channel"] == "sms"
    recipients = Recipient.objects.for_org(org).filter(campaign=campaign)
    assert recipients.count() == cap["realised"]["recipients"]
    # the responders' visits: the targeted service, in the targeted week, booked after the message
    booked = Appointment.objects.for_org(org).filter(
        patient__in=recipients.values("patient"),
        service=campaign.service,
        created_at__gte=campaign.queued_at,
    )
    assert booked.count() == cap["realised"]["booked"]
    assert not Campaign.objects.for_org(runs[False][0]).filter(name=CAPACITY_NAME).exists()
