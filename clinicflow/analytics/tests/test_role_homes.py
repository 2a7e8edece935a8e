"""Each role starts where its work is (issue #13): the start page and ``GET /api/v1/home`` show the front
desk's today, the doctor's day and follow-ups, the marketer's month (the channel report's own figures) and
the owner's essentials — each role its own blocks, each branch on its own clock, one organisation only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from freezegun import freeze_time

from clinicflow.acquisition import defaults
from clinicflow.acquisition.models import AdSpend, Call, CallbackTask, CallStatus
from clinicflow.analytics.reports.acquisition import channel_report
from clinicflow.booking.models import Appointment, Doctor, WaitlistEntry, WaitlistStatus
from clinicflow.booking.tests.factories import make_service
from clinicflow.catalogue.models import Service
from clinicflow.core.models import Branch, Organization
from clinicflow.core.services import branch_create
from clinicflow.patients.models import Patient

# 20:30 UTC on 10 March: 23:30 on the 10th in Moscow, 04:30 on the 11th in Shanghai
NOW = dt.datetime(2026, 3, 10, 20, 30, tzinfo=dt.UTC)


def utc(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=dt.UTC)


class Clinic:
    """One organisation's data for the homes: patients, doctors, appointments, calls, callbacks."""

    def __init__(self, org: Organization, branch: Branch) -> None:
        self.org, self.branch = org, branch
        self.service = make_service(org)
        self.n = 0

    def patient(self, name: str) -> Patient:
        return Patient.objects.create(
            organization=self.org, last_name=name, first_name="Anna", search_name=name
        )

    def doctor(self, name: str, user: Any = None) -> Doctor:
        return Doctor.objects.create(organization=self.org, full_name=name, user=user)

    def visit(
        self,
        patient: Patient,
        doctor: Doctor,
        start: dt.datetime,
        status: str = "booked",
        branch: Branch | None = None,
        service: Service | None = None,
    ) -> Appointment:
        service = service or self.service
        return Appointment.objects.create(
            organization=self.org,
            branch=branch or self.branch,
            patient=patient,
            service=service,
            doctor=doctor,
            start_at=start,
            end_at=start + dt.timedelta(minutes=30),
            busy_until=start + dt.timedelta(minutes=30),
            status=status,
            price=Decimal("5000.00"),
            currency=self.org.currency,
        )

    def call(
        self,
        when: dt.datetime,
        *,
        patient: Patient | None = None,
        code: str = "search_ads",
        missed: bool = False,
    ) -> Call:
        self.n += 1
        return Call.objects.create(
            organization=self.org,
            provider="generic",
            provider_call_id=f"c{self.n}",
            branch=self.branch,
            caller_e164=f"+7916000{self.n:04d}",
            started_at=when,
            status=CallStatus.MISSED if missed else CallStatus.COMPLETED,
            status_rank=1 if missed else 3,
            is_unique=True,
            patient=patient,
            channel=defaults.channel_for_code(org=self.org, code=code),
        )

    def callback(
        self, due: dt.datetime, *, done: bool = False, patient: Patient | None = None
    ) -> CallbackTask:
        call = self.call(due - dt.timedelta(minutes=15), patient=patient, missed=True)
        return CallbackTask.objects.create(
            organization=self.org,
            call=call,
            branch=self.branch,
            phone=call.caller_e164,
            due_at=due,
            done_at=due if done else None,
        )


@pytest.fixture(autouse=True)
def _urls_loaded_before_the_clock_is_frozen() -> None:
    """The URLconf (and the API's schemas with it) is built outside ``freeze_time``: pydantic cannot
    build a schema for freezegun's datetime class."""
    reverse("home")


@pytest.fixture
def shanghai(org: Organization) -> Branch:
    return branch_create(org=org, name="Shanghai", slug="shanghai", timezone="Asia/Shanghai", currency="RUB")


@pytest.fixture
def clinic(org: Organization, branch: Branch, users: Any) -> Clinic:
    return Clinic(org, branch)


def page(web: Any, persona: str, query: str = "") -> str:
    response = web(persona).get("/home/" + query)
    assert response.status_code == 200
    return str(response.content.decode())


def api_home(api: Any, persona: str, query: str = "") -> dict[str, Any]:
    response = api(persona).get("/api/v1/home" + query)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


# --- front desk ------------------------------------------------------------------------------------------


def test_front_desk_sees_today_in_each_branchs_zone(web, api, clinic, branch, shanghai) -> None:
    doc = clinic.doctor("Dr Petrova")
    in_moscow_today = clinic.visit(clinic.patient("Moscowtoday"), doc, utc(10, 19), "arrived")  # 22:00 MSK
    clinic.visit(clinic.patient("Moscowtomorrow"), doc, utc(11, 7))  # 10:00 MSK on the 11th
    in_shanghai_today = clinic.visit(
        clinic.patient("Shanghaitoday"), doc, utc(11, 2), branch=shanghai
    )  # 10:00
    clinic.visit(
        clinic.patient("Shanghaiyesterday"), doc, utc(10, 7), "done", branch=shanghai
    )  # 15:00 on 10th
    clinic.visit(clinic.patient("Cancelledtoday"), doc, utc(10, 18), "cancelled")
    with freeze_time(NOW):
        html = page(web, "frontdesk")
        body = api_home(api, "frontdesk")
    assert "Moscowtoday" in html and "Shanghaitoday" in html
    assert "Moscowtomorrow" not in html.split("Unconfirmed")[0]  # tomorrow's visit is not today's
    assert "Shanghaiyesterday" not in html and "Cancelledtoday" not in html
    assert body["kind"] == "frontdesk"
    days = {d["branch"]["name"]: d for d in body["blocks"]["today"]}
    assert days["Moscow"]["date"] == "2026-03-10" and days["Shanghai"]["date"] == "2026-03-11"
    assert [r["id"] for r in days["Moscow"]["rows"]] == [str(in_moscow_today.pk)]
    assert [r["id"] for r in days["Shanghai"]["rows"]] == [str(in_shanghai_today.pk)]
    assert days["Moscow"]["rows"][0]["start"] == "2026-03-10T22:00:00+03:00"
    assert (days["Moscow"]["came"], days["Moscow"]["expected"]) == (1, 0)
    assert (days["Shanghai"]["came"], days["Shanghai"]["expected"]) == (0, 1)
    # each row links to the visit and the patient's card
    assert f'href="/booking/a/{in_shanghai_today.pk}/"' in html
    assert f'href="/patients/{in_shanghai_today.patient_id}/"' in html


def test_callbacks_due_today_with_the_overdue_ones_marked(web, api, clinic) -> None:
    overdue = clinic.callback(utc(10, 19), patient=clinic.patient("Latecaller"))  # 22:00 MSK, before now
    later = clinic.callback(utc(10, 20, 45))  # 23:45 MSK: due later today
    clinic.callback(utc(10, 21, 30))  # 00:30 MSK on the 11th: tomorrow's
    clinic.callback(utc(10, 18), done=True)
    with freeze_time(NOW):
        body = api_home(api, "frontdesk")
        html = page(web, "frontdesk")
    rows = body["blocks"]["callbacks"]
    assert [(r["id"], r["overdue"]) for r in rows] == [(str(overdue.pk), True), (str(later.pk), False)]
    assert body["blocks"]["callbacks_overdue"] == 1
    assert rows[0]["due"] == "2026-03-10T22:00:00+03:00"
    assert html.count('class="table-danger"') == 1
    assert f'href="/acquisition/calls/{overdue.call_id}/"' in html
    assert "Latecaller" in html


def test_unconfirmed_bookings_and_waitlist_offers(web, api, clinic, branch) -> None:
    doc = clinic.doctor("Dr Petrova")
    soon = clinic.visit(clinic.patient("Soon"), doc, utc(11, 9))
    clinic.visit(clinic.patient("Confirmed"), doc, utc(11, 10), "confirmed")
    clinic.visit(clinic.patient("Faraway"), doc, utc(13, 9))  # beyond 48 hours
    offered = WaitlistEntry.objects.create(
        organization=clinic.org,
        branch=branch,
        patient=clinic.patient("Offered"),
        service=clinic.service,
        date_from=dt.date(2026, 3, 11),
        date_to=dt.date(2026, 3, 20),
        status=WaitlistStatus.OFFERED,
        offered_start=utc(12, 8),
        offered_doctor=doc,
        offered_at=utc(10, 12),
    )
    WaitlistEntry.objects.create(
        organization=clinic.org,
        branch=branch,
        patient=clinic.patient("Waiter"),
        service=clinic.service,
        date_from=dt.date(2026, 3, 11),
        date_to=dt.date(2026, 3, 20),
    )
    with freeze_time(NOW):
        body = api_home(api, "frontdesk")
        html = page(web, "frontdesk")
    blocks = body["blocks"]
    assert [r["id"] for r in blocks["unconfirmed"]] == [str(soon.pk)]
    assert [o["id"] for o in blocks["waitlist_offers"]] == [str(offered.pk)]
    assert blocks["waitlist_offers"][0]["start"] == "2026-03-12T11:00:00+03:00"
    assert blocks["waitlist_waiting"] == 1
    assert "Offered" in html and "Waiter" not in html


def test_front_desk_does_not_see_the_marketers_month(web, api, clinic) -> None:
    AdSpend.objects.create(
        organization=clinic.org,
        date=dt.date(2026, 3, 2),
        channel=defaults.channel_for_code(org=clinic.org, code="search_ads"),
        spend=Decimal("123456.78"),
        currency="RUB",
    )
    with freeze_time(NOW):
        html = page(web, "frontdesk")
        body = api_home(api, "frontdesk")
    assert "Cost per first patient" not in html and "456.78" not in html and "456,78" not in html
    assert set(body["blocks"]) == {
        "today",
        "callbacks",
        "callbacks_overdue",
        "unconfirmed",
        "waitlist_offers",
        "waitlist_waiting",
    }


def test_a_front_desk_tied_to_a_branch_sees_that_branch_only(web, api, clinic, users, shanghai) -> None:
    users["frontdesk"].branch = shanghai
    users["frontdesk"].save(update_fields=["branch"])
    doc = clinic.doctor("Dr A")
    clinic.visit(clinic.patient("Inmoscow"), doc, utc(10, 19))
    there = clinic.visit(clinic.patient("Inshanghai"), doc, utc(11, 2), branch=shanghai)
    clinic.callback(utc(10, 19))  # a Moscow callback
    with freeze_time(NOW):
        blocks = api_home(api, "frontdesk")["blocks"]
        html = page(web, "frontdesk")
    assert [d["branch"]["name"] for d in blocks["today"]] == ["Shanghai"]
    assert [r["id"] for r in blocks["today"][0]["rows"]] == [str(there.pk)]
    assert blocks["callbacks"] == [] and "Inmoscow" not in html


# --- doctor ----------------------------------------------------------------------------------------------


def test_doctor_sees_only_their_own_day(web, api, clinic, users) -> None:
    me = clinic.doctor("Dr Me", user=users["doctor"])
    other = clinic.doctor("Dr Other")
    mine = clinic.visit(clinic.patient("Mypatient"), me, utc(10, 8))
    clinic.visit(clinic.patient("Notmine"), other, utc(10, 9))
    with freeze_time(NOW):
        html = page(web, "doctor")
        body = api_home(api, "doctor")
    assert body["kind"] == "doctor"
    assert body["blocks"]["doctor"]["name"] == "Dr Me"
    assert [r["id"] for r in body["blocks"]["my_day"]] == [str(mine.pk)]
    assert body["blocks"]["feedback_tasks"] == {"today": 0, "overdue": 0, "upcoming": 0, "done": 0}
    assert "Mypatient" in html and "Notmine" not in html
    assert "/care/tasks/" in html  # the aftercare tasks block links to the task list
    assert "Callbacks due today" not in html and "This month by channel" not in html


def test_doctor_without_a_linked_account_gets_an_explanation(web, api, clinic) -> None:
    clinic.visit(clinic.patient("Somebody"), clinic.doctor("Dr Unlinked"), utc(10, 8))
    with freeze_time(NOW):
        html = page(web, "doctor")
        body = api_home(api, "doctor")
    assert "not linked to a doctor record" in html and "Somebody" not in html
    assert body["blocks"] == {"doctor": None, "my_day": [], "follow_ups": [], "feedback_tasks": {}}


def test_doctor_sees_their_patients_open_course_sessions(web, api, clinic, users) -> None:
    me = clinic.doctor("Dr Me", user=users["doctor"])
    course = make_service(
        clinic.org, code="peel-course", name="Peel course", course_sessions=3, course_interval_days=14
    )
    late, booked, finished = clinic.patient("Late"), clinic.patient("Booked"), clinic.patient("Finished")
    clinic.visit(late, me, utc(1, 8), "done", service=course)  # next due 15 March... and
    clinic.visit(late, me, utc(1, 9), "no_show", service=course)  # a no-show is no session
    clinic.visit(booked, me, utc(5, 8), "done", service=course)
    nxt = clinic.visit(booked, me, utc(19, 8), "confirmed", service=course)
    for day in (1, 3, 5):
        clinic.visit(finished, me, utc(day, 12), "done", service=course)
    with freeze_time(dt.datetime(2026, 3, 17, 9, tzinfo=dt.UTC)):
        body = api_home(api, "doctor")
        html = page(web, "doctor")
    rows = body["blocks"]["follow_ups"]
    assert [
        (r["patient"]["name"], r["sessions_done"], r["due"], r["overdue"], r["booked"]) for r in rows
    ] == [
        ("Late Anna", 1, "2026-03-15", True, None),
        ("Booked Anna", 1, "2026-03-19", False, str(nxt.pk)),
    ]
    assert "Finished" not in html and f'href="/booking/a/{nxt.pk}/"' in html


# --- marketer --------------------------------------------------------------------------------------------


def _month_of_acquisition(clinic: Clinic) -> None:
    search = defaults.channel_for_code(org=clinic.org, code="search_ads")
    for day, amount in ((2, "10000.10"), (5, "20000.20")):
        AdSpend.objects.create(
            organization=clinic.org,
            date=dt.date(2026, 3, day),
            channel=search,
            spend=Decimal(amount),
            currency="RUB",
        )
    doc = clinic.doctor("Dr A")
    for i in range(3):
        p = clinic.patient(f"First{i}")
        clinic.call(utc(3 + i, 9), patient=p)
        clinic.visit(p, doc, utc(6 + i, 9), "done")
    clinic.call(utc(9, 9))  # a call that booked nothing


def test_marketers_cost_per_first_patient_is_the_channel_reports(web, api, clinic) -> None:
    _month_of_acquisition(clinic)
    with freeze_time(NOW):
        body = api_home(api, "marketer")
        html = page(web, "marketer")
    report = channel_report(
        org=clinic.org, date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 10)
    ).rows()
    expected = next(r for r in report if r["code"] == "search_ads")
    blocks = body["blocks"]
    assert (blocks["from"], blocks["to"], blocks["currency"]) == ("2026-03-01", "2026-03-10", "RUB")
    row = next(r for r in blocks["channels"] if r["name"] == expected["name"])
    assert Decimal(row["cost_per_first_patient"]) == expected["cost_per_first_patient"] == Decimal("10000.10")
    assert Decimal(row["spend"]) == Decimal("30000.30")
    assert (row["unique_calls"], row["first_visits"]) == (4, 3.0)
    assert "/analytics/reports/channels/?from=2026-03-01&amp;to=2026-03-10" in html
    assert 'id="chart-data"' in html and "core/charts.js" in html
    assert "New patients, last 30 days" not in html and "First0" not in html  # no patients on this home


def test_spend_in_another_currency_is_noted_never_added(api, clinic, org) -> None:
    _month_of_acquisition(clinic)
    tallinn = branch_create(
        org=org, name="Tallinn", slug="tallinn", timezone="Europe/Tallinn", currency="EUR"
    )
    AdSpend.objects.create(
        organization=org,
        date=dt.date(2026, 3, 3),
        channel=defaults.channel_for_code(org=org, code="search_ads"),
        branch=tallinn,
        spend=Decimal("500.00"),
        currency="EUR",
    )
    with freeze_time(NOW):
        blocks = api_home(api, "marketer")["blocks"]
    assert blocks["currency"] == "RUB" and blocks["total"]["spend"] == "30000.30"
    assert any("500.00 EUR" in note for note in blocks["notes"])


# --- owner, preview, tenancy, API ------------------------------------------------------------------------


def test_owner_sees_the_essentials_a_compact_today_and_the_month(web, api, clinic, branch) -> None:
    _month_of_acquisition(clinic)
    clinic.callback(utc(10, 19))
    with freeze_time(NOW):
        html = page(web, "owner")
        body = api_home(api, "owner")
    blocks = body["blocks"]
    assert body["kind"] == "owner"
    assert blocks["patients"] == 3 and blocks["callbacks_overdue"] == 1
    assert blocks["month"]["total"]["cost_per_first_patient"] == "10000.10"
    assert "<td>23:30</td>" in html  # Moscow's local time
    assert "First0" not in html  # compact: counts, not the front desk's rows


def test_only_an_owner_may_preview_another_roles_home(web, api, clinic, users) -> None:
    clinic.visit(clinic.patient("Previewed"), clinic.doctor("Dr A"), utc(10, 19))
    with freeze_time(NOW):
        assert api_home(api, "owner", "?as=frontdesk")["kind"] == "frontdesk"
        assert "Previewed" in page(web, "owner", "?as=frontdesk")
        assert api_home(api, "marketer", "?as=frontdesk")["kind"] == "marketer"
        assert "Previewed" not in page(web, "marketer", "?as=frontdesk")
        assert api_home(api, "frontdesk", "?as=nonsense")["kind"] == "frontdesk"


def test_another_organisations_data_is_never_shown(web, api, clinic, other_org, other_branch, users) -> None:
    theirs = Clinic(other_org, other_branch)
    doc = theirs.doctor("Dr Theirs")
    theirs.visit(theirs.patient("Foreigner"), doc, utc(10, 14), "arrived")
    theirs.visit(theirs.patient("Foreignbooked"), doc, utc(11, 9))
    theirs.callback(utc(10, 19))
    AdSpend.objects.create(
        organization=other_org,
        date=dt.date(2026, 3, 2),
        channel=defaults.channel_for_code(org=other_org, code="search_ads"),
        spend=Decimal("999.00"),
        currency="CNY",
    )
    with freeze_time(NOW):
        for persona in ("owner", "frontdesk", "marketer"):
            html = page(web, persona)
            assert "Foreign" not in html and "Shanghai" not in html
        blocks = api_home(api, "frontdesk")["blocks"]
        assert blocks["callbacks"] == [] and blocks["unconfirmed"] == []
        assert all(d["rows"] == [] for d in blocks["today"])
        assert api_home(api, "marketer")["blocks"]["channels"] == []


def test_the_api_answers_with_the_pages_blocks(web, api, clinic, users) -> None:
    me = clinic.doctor("Dr Me", user=users["doctor"])
    visits = [clinic.visit(clinic.patient(f"P{i}"), me, utc(10, 8 + i)) for i in range(3)]
    clinic.callback(utc(10, 19))
    with freeze_time(NOW):
        for persona in ("frontdesk", "doctor"):
            html = page(web, persona)
            body = api_home(api, persona)
            rows = body["blocks"]["today"][0]["rows"] if persona == "frontdesk" else body["blocks"]["my_day"]
            assert [r["id"] for r in rows] == [str(v.pk) for v in visits]
            for r in rows:
                assert f'href="/booking/a/{r["id"]}/"' in html and r["patient"]["name"] in html
        fd = api_home(api, "frontdesk")["blocks"]
        assert all(
            f'href="/acquisition/calls/{c["call"]}/"' in page(web, "frontdesk") for c in fd["callbacks"]
        )
    assert api("outsider").get("/api/v1/home").json()["blocks"]["today"] == []


# the owner's home: 21 + 1 for its open alerts (one query, the alerts with their branch)
@pytest.mark.parametrize(
    ("persona", "budget"), [("frontdesk", 12), ("doctor", 21), ("marketer", 13), ("owner", 22)]
)
def test_each_home_reads_in_a_fixed_number_of_queries(
    web, clinic, shanghai, users, persona, budget, django_assert_max_num_queries
) -> None:
    _month_of_acquisition(clinic)
    me = clinic.doctor("Dr Me", user=users["doctor"])
    course = make_service(clinic.org, code="course", name="Course", course_sessions=3, course_interval_days=7)
    for i in range(8):
        p = clinic.patient(f"Q{i}")
        clinic.visit(p, me, utc(10, 8 + i), "arrived", branch=shanghai if i % 2 else None)
        clinic.visit(p, me, utc(1 + i, 8), "done", service=course)
        clinic.visit(p, me, utc(11, 8 + i, 30), service=course)
        clinic.callback(utc(10, 12 + i))
    client = web(persona)
    with freeze_time(NOW):
        client.get("/home/")  # the session's first request stores it
        # the marketer's and owner's homes read the channel report, whose attribution statement runs
        # without nested loops on PostgreSQL: a SET before it and a RESET after (reports/sqlplan.py)
        planned = 2 if persona in ("marketer", "owner") and connection.vendor == "postgresql" else 0
        # and its traffic part reads the traffic day facts, then (none built in this clinic) checks that
        # none exist before reading the raw sessions, leads and calls (owner/traffic_facts.py)
        planned += 2 if persona in ("marketer", "owner") else 0
        # and its first patients check that the channel facts exist (none here) before the raw
        # attribution statement (owner/chan_reads.py)
        planned += 1 if persona in ("marketer", "owner") else 0
        with django_assert_max_num_queries(budget + planned):
            assert client.get("/home/").status_code == 200


@pytest.mark.parametrize(
    ("lang", "heading", "overdue"),
    [
        ("en", "Today's appointments", "Overdue"),
        ("ru", "Записи на сегодня", "Просрочено"),
        ("zh-hans", "今日预约", "已逾期"),
    ],
)
def test_the_front_desks_home_reads_in_each_language(web, clinic, lang, heading, overdue) -> None:
    clinic.callback(utc(10, 19))
    client = web("frontdesk")
    with freeze_time(NOW):
        html = client.get("/home/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert heading in html and overdue in html
