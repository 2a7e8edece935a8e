"""Parsing a scenario's merged data into a validated :class:`Scenario`, section by section; every
error names the key."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from clinicflow.simulator.scenario import operations as _ops
from clinicflow.simulator.scenario.heterogeneity import parse_heterogeneity
from clinicflow.simulator.scenario.model import (
    CATEGORIES,
    CHANNEL_KINDS,
    COUNTRIES,
    MEMBERSHIP_KINDS,
    PAYMENT_METHODS,
    ROOM_TYPES,
    Administrator,
    Branch,
    Channel,
    Doctor,
    Scenario,
    ScenarioError,
    Service,
)
from clinicflow.simulator.scenario.names import renamed as _renamed
from clinicflow.simulator.scenario.reader import TableReader as _R
from clinicflow.simulator.scenario.reader import month_day as _month_day
from clinicflow.simulator.scenario.reader import unique as _unique


def _end_date(c: _R, today: dt.date | None) -> dt.date:
    end_raw = c.text("end_date", "")
    if not end_raw:
        return today or dt.date.today()  # noqa: DTZ011 - the clinic's "today" as a calendar date
    try:
        return dt.date.fromisoformat(end_raw)
    except ValueError as exc:
        raise ScenarioError(f"clinic.end_date: must be an ISO date YYYY-MM-DD (got {end_raw!r})") from exc


def _branches(top: _R) -> list[Branch]:
    branches = []
    for b in top.tables("branches"):
        tz = b.text("timezone")
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ScenarioError(f"{b._key('timezone')}: unknown time zone {tz!r}") from exc
        rooms_r = b.table("rooms")
        for k in rooms_r.data:
            if k not in ROOM_TYPES:
                raise ScenarioError(f"{rooms_r._key(k)}: unknown room type (one of {', '.join(ROOM_TYPES)})")
        rooms = {rt: rooms_r.integer(rt, 0, 0, 50) for rt in ROOM_TYPES}
        open_hour = b.integer("open_hour", 9, 0, 23)
        close_hour = b.integer("close_hour", 21, 1, 24)
        if close_hour <= open_hour:
            raise ScenarioError(f"{b._key('close_hour')}: must be after open_hour")
        branches.append(
            Branch(
                slug=b.text("slug"),
                name=b.text("name"),
                name_en=b.text("name_en", ""),
                timezone=tz,
                city=b.text("city", ""),
                address=b.text("address", ""),
                phone=b.text("phone", ""),
                demand=b.num("demand", 1.0, 0.0),
                open_hour=open_hour,
                close_hour=close_hour,
                rooms=rooms,
            )
        )
    _unique([b.slug for b in branches], "branches")
    return branches


def _services(top: _R) -> list[Service]:
    services = []
    for s in top.tables("services"):
        services.append(
            Service(
                code=s.text("code"),
                name=s.text("name"),
                name_en=s.text("name_en", ""),
                category=s.text("category", choices=CATEGORIES),
                room_type=s.text("room_type", choices=ROOM_TYPES),
                duration=s.integer("duration", lo=5, hi=600),
                price=s.num("price", lo=0.0),
                first_visit=s.flag("first_visit", False),
                course=s.integer("course", 1, 1, 30),
                interval=s.integer("interval", 0, 0, 365),
                follow_on=tuple(str(x) for x in s.raw("follow_on", [])),
                weight=s.num("weight", 0.0, 0.0),
            )
        )
    _unique([s.code for s in services], "services")
    codes = {s.code for s in services}
    for i, svc in enumerate(services):
        for code in svc.follow_on:
            if code not in codes:
                raise ScenarioError(f"services[{i}].follow_on: unknown service code {code!r}")
    if sum(s.first_visit for s in services) != 1:
        raise ScenarioError("services: exactly one service must have first_visit = true")
    return services


def _channels(top: _R) -> list[Channel]:
    channels = []
    for ch in top.tables("channels"):
        spend = ch.num("monthly_spend", 0.0, 0.0)
        returns = ch.num("returns", 0.0, 0.0, 1.0)
        cpc = ch.num("cost_per_contact", 0.0, 0.0)
        if returns > 0 and (spend <= 0 or cpc <= 0):
            raise ScenarioError(
                f"{ch._key('cost_per_contact')}: a channel with returns > 0 needs monthly_spend and "
                "cost_per_contact > 0"
            )
        channels.append(
            Channel(
                code=ch.text("code"),
                name=ch.text("name"),
                name_en=ch.text("name_en", ""),
                kind=ch.text("kind", choices=CHANNEL_KINDS),
                monthly_spend=spend,
                cost_per_contact=cpc,
                contacts=ch.num("contacts", 0.0, 0.0),
                returns=returns,
                web=ch.flag("web", False),
                female_share=ch.rate("female_share", 0.8),
                age_mean=ch.num("age_mean", 38.0, 14.0, 90.0),
                age_sd=ch.num("age_sd", 10.0, 0.0, 40.0),
                return_factor=ch.num("return_factor", 1.0, 0.05, 20.0),
            )
        )
    _unique([ch.code for ch in channels], "channels")
    if not any(ch.kind == "referral" for ch in channels):
        raise ScenarioError("channels: a channel of kind 'referral' is required (referrals land there)")
    return channels


def _administrators(top: _R, branch_slugs: tuple[str, ...]) -> list[Administrator]:
    admins = []
    for a in top.tables("administrators"):
        admins.append(
            Administrator(
                branch=a.text("branch", choices=branch_slugs),
                name=a.text("name"),
                name_en=a.text("name_en", ""),
                conversion=a.rate("conversion"),
                quality=a.num("quality", lo=0.0, hi=100.0),
                weight=a.num("weight", 1.0, 0.0),
            )
        )
    for slug in branch_slugs:
        if not any(a.branch == slug for a in admins):
            raise ScenarioError(f"administrators: branch {slug!r} has no administrator")
    return admins


def _doctors(
    top: _R, branches: list[Branch], services: list[Service], branch_slugs: tuple[str, ...]
) -> list[Doctor]:
    doctors = []
    for d in top.tables("doctors"):
        doctors.append(
            Doctor(
                branch=d.text("branch", choices=branch_slugs),
                name=d.text("name"),
                name_en=d.text("name_en", ""),
                specialty=d.text("specialty", choices=ROOM_TYPES),
                conversion=d.rate("conversion"),
                over_promise=d.num("over_promise", 0.0, -5.0, 5.0),
                quality=d.num("quality", lo=0.0, hi=10.0),
                course_completion=d.rate("course_completion"),
                repeat_rate=d.rate("repeat_rate"),
                over_treatment=d.num("over_treatment", 0.0, 0.0, 5.0),
                weight=d.num("weight", 1.0, 0.0),
                work_days=_ops.work_days(d),
                hours=_ops.hours(d),
            )
        )
    for i, doc in enumerate(doctors):
        branch = next(b for b in branches if b.slug == doc.branch)
        _ops.check_doctor(i, doc, branch)
        if doc.specialty != "consultation" and branch.rooms.get(doc.specialty, 0) == 0:
            raise ScenarioError(
                f"doctors[{i}].specialty: branch {doc.branch!r} has no {doc.specialty!r} room"
            )
        if doc.specialty != "consultation" and not any(
            s.room_type == doc.specialty and s.weight > 0 for s in services
        ):
            raise ScenarioError(
                f"doctors[{i}].specialty: no service with weight > 0 uses room type {doc.specialty!r}"
            )
    for slug in branch_slugs:
        if not any(d.branch == slug for d in doctors):
            raise ScenarioError(f"doctors: branch {slug!r} has no doctor")
    return doctors


def _price_schedule(fvp: _R) -> list[tuple[int, float]]:
    schedule = []
    for i, item in enumerate(fvp.array("schedule", 1)):
        r = _R(item, f"first_visit_price.schedule[{i}]")
        schedule.append((r.integer("month", lo=0), r.num("price", lo=0.0)))
    schedule.sort()
    if schedule[0][0] != 0:
        raise ScenarioError("first_visit_price.schedule: the first entry must be month = 0")
    return schedule


def _holidays(se: _R) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    holidays = []
    for i, pair in enumerate(se.array("holidays")):
        if not isinstance(pair, list) or len(pair) != 2:
            raise ScenarioError(f"seasonality.holidays[{i}]: must be a pair ['MM-DD', 'MM-DD']")
        holidays.append(
            (
                _month_day(pair[0], f"seasonality.holidays[{i}][0]"),
                _month_day(pair[1], f"seasonality.holidays[{i}][1]"),
            )
        )
    return holidays


def _contacts(ct: _R) -> dict[str, Any]:
    hours = ct.numbers("hours", lo=0.0)
    contacts: dict[str, Any] = {
        "call_share": ct.rate("call_share"),
        "sessions_per_web_contact": ct.num("sessions_per_web_contact", lo=0.0, hi=100.0),
        "dynamic_numbers_per_branch": ct.integer("dynamic_numbers_per_branch", lo=1, hi=1000),
        "repeat_call_rate": ct.num("repeat_call_rate", lo=0.0, hi=10.0),
        "hours": hours,
        "missed_share": ct.rate("missed_share"),
        "missed_peak_boost": ct.num("missed_peak_boost", lo=0.0, hi=3.0),
        "missed_load_exponent": ct.num("missed_load_exponent", 0.5, 0.0, 3.0),
        "callback_done": ct.rate("callback_done"),
        "callback_recovery": ct.rate("callback_recovery"),
        "lead_days_max": ct.integer("lead_days_max", lo=0, hi=60),
    }
    return contacts


def _schedule(sc: _R) -> dict[str, Any]:
    work_days = sc.array("work_days", 1)
    for i, wd in enumerate(work_days):
        if not isinstance(wd, int) or not 0 <= wd <= 6:
            raise ScenarioError(f"schedule.work_days[{i}]: must be 0..6 (0 = Monday) (got {wd!r})")
    gaps = sc.numbers("gap_probabilities", lo=0.0)
    if sum(gaps) <= 0:
        raise ScenarioError("schedule.gap_probabilities: must not all be zero")
    schedule_d: dict[str, Any] = {
        "slot_minutes": sc.integer("slot_minutes", lo=5, hi=60),
        "work_days": tuple(sorted(set(work_days))),
        "gap_probabilities": gaps,
    }
    return schedule_d


def _appointments(ap: _R) -> dict[str, Any]:
    appointments: dict[str, Any] = {
        "no_show": ap.rate("no_show"),
        "cancelled": ap.rate("cancelled"),
        "first_visit_no_show": ap.rate("first_visit_no_show"),
        "reschedule": ap.rate("reschedule"),
        "payment_methods": ap.mix("payment_methods", PAYMENT_METHODS),
        **_ops.appointments(ap),
    }
    if appointments["no_show"] + appointments["cancelled"] >= 1:
        raise ScenarioError("appointments.cancelled: no_show + cancelled must be below 1")
    return appointments


def _satisfaction(sa: _R) -> dict[str, float]:
    satisfaction = {
        "expectation_mean": sa.num("expectation_mean", lo=0.0, hi=10.0),
        "expectation_sd": sa.num("expectation_sd", lo=0.0, hi=5.0),
        "noise_sd": sa.num("noise_sd", lo=0.01, hi=5.0),
        "over_treatment_penalty": sa.num("over_treatment_penalty", lo=0.0, hi=10.0),
        "nps_center": sa.num("nps_center", lo=0.0, hi=10.0),
        "nps_slope": sa.num("nps_slope", lo=0.01, hi=10.0),
        "survey_response": sa.rate("survey_response"),
        "complication_penalty": sa.num("complication_penalty", lo=0.0, hi=10.0),
    }
    return satisfaction


def _aftercare(af: _R) -> dict[str, Any]:
    fdays = af.array("followup_days")
    for i, v in enumerate(fdays):
        if not isinstance(v, int) or v < 0:
            raise ScenarioError(f"aftercare.followup_days[{i}]: must be a whole number of days ≥ 0")
    aftercare: dict[str, Any] = {
        "followup_days": tuple(fdays),
        "followup_done": af.rate("followup_done"),
        "complication_rates": af.mix("complication_rates", CATEGORIES),
        "repeat_gap_days": af.num("repeat_gap_days", lo=1.0, hi=180.0),
    }
    for k, v in aftercare["complication_rates"].items():
        if v > 1:
            raise ScenarioError(f"aftercare.complication_rates.{k}: must be between 0 and 1 (got {v})")
    return aftercare


def _recall(rc: _R) -> dict[str, float]:
    recall = {
        "every_months": float(rc.integer("every_months", lo=1, hi=24)),
        "lapsed_days": float(rc.integer("lapsed_days", lo=30, hi=1000)),
        "contact_share": rc.rate("contact_share"),
        "return_week": rc.rate("return_week"),
        "return_two_months": rc.rate("return_two_months"),
    }
    if recall["return_week"] + recall["return_two_months"] > 1:
        raise ScenarioError("recall.return_two_months: return_week + return_two_months must be at most 1")
    return recall


def _loyalty(lo_: _R) -> dict[str, Any]:
    loyalty: dict[str, Any] = {
        "points_share": lo_.rate("points_share"),
        "points_per_100": lo_.num("points_per_100", lo=0.0, hi=100.0),
        "redeem_threshold": lo_.num("redeem_threshold", lo=1.0),
        "redeem_probability": lo_.rate("redeem_probability"),
        "membership_probability": lo_.rate("membership_probability"),
        "membership_mix": lo_.mix("membership_mix", MEMBERSHIP_KINDS),
        "membership_fee": lo_.num("membership_fee", lo=0.0),
        "stored_value_amount": lo_.num("stored_value_amount", lo=0.0),
        "stored_value_bonus": lo_.rate("stored_value_bonus"),
        "package_sessions": lo_.integer("package_sessions", lo=1, hi=50),
        "package_discount": lo_.rate("package_discount"),
        "referral_probability": lo_.rate("referral_probability"),
        "consent_marketing": lo_.rate("consent_marketing"),
    }
    return loyalty


def parse_scenario(
    data: dict[str, Any], *, source: str = "default", today: dt.date | None = None
) -> Scenario:
    top = _R(data, "")
    c = top.table("clinic")
    end_date = _end_date(c, today)
    months = c.integer("months", lo=1, hi=240)
    branches = _branches(top)
    branch_slugs = tuple(b.slug for b in branches)
    services = _renamed(_services(top), top, "services")
    channels = _renamed(_channels(top), top, "channels")
    admins = _administrators(top, branch_slugs)
    doctors = _doctors(top, branches, services, branch_slugs)
    fvp = top.table("first_visit_price")
    schedule = _price_schedule(fvp)
    se = top.table("seasonality")
    holidays = _holidays(se)
    sp = top.table("spend")
    contacts = _contacts(top.table("contacts"))
    schedule_d = _schedule(top.table("schedule"))
    appointments = _appointments(top.table("appointments"))
    satisfaction = _satisfaction(top.table("satisfaction"))
    aftercare = _aftercare(top.table("aftercare"))
    recall = _recall(top.table("recall"))
    loyalty = _loyalty(top.table("loyalty"))
    return Scenario(
        name=c.text("name"),
        name_en=c.text("name_en", ""),
        country=c.text("country", choices=COUNTRIES),
        currency=c.text("currency"),
        language=c.text("language", "en"),
        months=months,
        end_date=end_date,
        price_factor=c.num("price_factor", 1.0, 0.0001),
        demand_factor=c.num("demand_factor", 1.0, 0.0),
        patients=c.integer("patients", 0, 0),
        branches=tuple(branches),
        services=tuple(services),
        channels=tuple(channels),
        administrators=tuple(admins),
        doctors=tuple(doctors),
        price_schedule=tuple(schedule),
        elasticity_step=fvp.num("elasticity_step", lo=0.0001),
        calls_change_per_step=fvp.num("calls_change_per_step", lo=0.0, hi=10.0),
        season_monthly=se.numbers("monthly", 12),
        season_weekday=se.numbers("weekday", 7),
        holidays=tuple(holidays),
        holiday_factor=se.num("holiday_factor", lo=0.0, hi=1.0),
        trend_per_year=se.num("trend_per_year", lo=-0.9, hi=5.0),
        spend_jitter=sp.num("jitter", lo=0.0, hi=0.9),
        spend_trend_per_year=sp.num("trend_per_year", lo=-0.9, hi=5.0),
        contacts=contacts,
        schedule=schedule_d,
        appointments=appointments,
        satisfaction=satisfaction,
        aftercare=aftercare,
        recall=recall,
        loyalty=loyalty,
        heterogeneity=parse_heterogeneity(top),
        source=source,
        raw=data,
    )
