"""The department scorecards read every period at once, grouped in SQL (``owner.scorecards.
period_values``), and give exactly what the per-report reads gave before (``scorecards_reference``: the
day facts' totals, the administrators', follow-ups' and feedback reports' rows, summed in Python) — for
the chain and each branch (each on its own clock), over periods of several lengths, with "now" inside
the latest period (follow-ups are counted up to now) — in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from freezegun import freeze_time

from clinicflow.analytics.owner.facts import rebuild
from clinicflow.analytics.owner.scorecards import part_values, period_values, scorecards
from clinicflow.analytics.tests.scorecards_reference import reference_part_values
from clinicflow.conftest import module_data
from clinicflow.core.models import Organization, Region
from clinicflow.core.selectors import branch_list
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

END = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def clinic(django_db_setup: Any, django_db_blocker: Any) -> Any:
    from clinicflow.core.services import organization_create

    with module_data(django_db_blocker):
        org = organization_create(
            name="Scorecard Clinic", slug="scorecards", country="RU", currency="RUB", data_region=Region.RU
        )
        simulate_org(
            org=org, scenario=load_scenario(overrides={"clinic": {"months": 5, "end_date": str(END)}}), seed=4
        )
        rebuild(org)
        yield org


def _periods(days: int, end: dt.date = END) -> list[tuple[dt.date, dt.date]]:
    d0 = end - dt.timedelta(days=days - 1)
    return [(d0 - dt.timedelta(days=days * k), end - dt.timedelta(days=days * k)) for k in range(3)]


@pytest.mark.django_db
@pytest.mark.parametrize("days", [7, 28, 45])
def test_the_grouped_reads_equal_the_per_report_reads(clinic: Organization, days: int) -> None:
    org = clinic
    branches = branch_list(org=org)
    assert len(branches) >= 2
    for branch in (None, *branches):
        periods = _periods(days)
        fast = period_values(org=org, periods=periods, branch=branch)
        slow = [reference_part_values(org=org, date_from=a, date_to=b, branch=branch) for a, b in periods]
        assert fast == slow, (days, branch)
    # not vacuous: the chain's latest month has a value for every part that has data in the simulation
    month = period_values(org=org, periods=_periods(28), branch=None)[0]
    for dept, part in (
        ("front_desk", "call_conversion"),
        ("front_desk", "call_score"),
        ("front_desk", "callbacks"),
        ("marketing", "cost_per_first"),
        ("consultants", "treatment_conversion"),
        ("customer_service", "followups_on_time"),
        ("doctors", "nps"),
    ):
        assert month[dept][part] is not None, (dept, part)


@pytest.mark.django_db
def test_follow_ups_are_counted_up_to_now_as_before(clinic: Organization) -> None:
    org = clinic
    moment = timezone.make_aware(dt.datetime(2026, 11, 20, 12, 0), dt.UTC)
    with freeze_time(moment):
        for branch in (None, branch_list(org=org)[0]):
            periods = _periods(28)
            fast = period_values(org=org, periods=periods, branch=branch)
            slow = [reference_part_values(org=org, date_from=a, date_to=b, branch=branch) for a, b in periods]
            assert fast == slow
            assert (
                fast[0]["customer_service"]
                == part_values(org=org, date_from=periods[0][0], date_to=periods[0][1], branch=branch)[
                    "customer_service"
                ]
            )


@pytest.mark.django_db
def test_the_scorecards_read_in_a_fixed_number_of_queries(
    clinic: Organization, django_assert_max_num_queries: Any
) -> None:
    org = clinic
    # the weights and one statement per source for the three periods: day facts, ad spend, the score
    # facts (website visits, callbacks, follow-ups), the answer facts' expectation gaps and the
    # consultants' order by name, the administrators' facts (7; an 8th reads the follow-ups due today
    # before now when the latest period reaches today)
    for days in (7, 90):
        with django_assert_max_num_queries(8):
            cards = scorecards(org=org, date_from=END - dt.timedelta(days=days - 1), date_to=END, branch=None)
        assert [c.key for c in cards] == [
            "marketing",
            "consultants",
            "front_desk",
            "customer_service",
            "doctors",
        ]
