""" "Direct" and "Direct / unknown" are one channel: the first patients with no touch are reported on
the direct channel's line, not on a line of their own beside it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from clinicflow.acquisition import defaults
from clinicflow.analytics.reports import acquisition as acq
from clinicflow.analytics.tests.test_channel_first_visits import MARCH, Clinic, at


@pytest.mark.django_db
def test_untouched_first_patients_land_on_the_direct_channel(org: Any, branch: Any) -> None:
    c = Clinic(org, branch)
    walk_in, caller = c.patient("Walkin"), c.patient("Caller")
    c.visit(walk_in, at(3, 5), "done")  # no call, lead or web session: direct / unknown
    c.call(caller, at(3, 1), "direct")
    c.visit(caller, at(3, 8), "done")
    direct = defaults.channel_for_code(org=org, code="direct")
    got = acq.acquisition_rows(org=org, date_from=MARCH[0], date_to=MARCH[1])
    names = [r["name"] for r in got]
    assert names == [direct.name], got
    assert got[0]["code"] == "direct"
    assert (got[0]["calls"], got[0]["booked_first"], got[0]["arrived_first"]) == (1, 2.0, 2.0)


@pytest.mark.django_db
def test_without_a_direct_channel_the_untouched_are_still_direct_unknown(org: Any, branch: Any) -> None:
    c = Clinic(org, branch)
    c.visit(c.patient("Walkin"), at(3, 5) + dt.timedelta(hours=1), "done")
    got = acq.acquisition_rows(org=org, date_from=MARCH[0], date_to=MARCH[1])
    assert [(r["code"], r["name"], r["arrived_first"]) for r in got] == [("unknown", "Direct / unknown", 1.0)]
