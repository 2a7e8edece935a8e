"""Scenario files: TOML with every planted parameter of the simulation, merged over
``scenarios/default.toml`` and validated. Every error names the offending key, e.g.
``doctors[2].conversion: must be between 0 and 1 (got 1.4)``."""

from __future__ import annotations

import datetime as dt
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
DEFAULT_SCENARIO = SCENARIO_DIR / "default.toml"

ROOM_TYPES = ("consultation", "treatment", "laser", "operating", "dental")
CATEGORIES = (
    "consultation",
    "injectables",
    "botulinum",
    "fillers",
    "laser",
    "peels",
    "body",
    "surgery",
    "dental",
)
CHANNEL_KINDS = ("search_ads", "social_ads", "organic", "aggregator", "referral", "offline", "direct")
PAYMENT_METHODS = ("card", "cash", "transfer", "online", "stored_value")
MEMBERSHIP_KINDS = ("fee", "stored_value", "package")
COUNTRIES = ("RU", "CN")


class ScenarioError(ValueError):
    """A scenario file is unreadable or a key has a wrong value; the message names the key."""


@dataclass(frozen=True)
class Branch:
    slug: str
    name: str
    timezone: str
    city: str
    address: str
    phone: str
    demand: float
    open_hour: int
    close_hour: int
    rooms: dict[str, int]


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    category: str
    room_type: str
    duration: int
    price: float
    first_visit: bool
    course: int
    interval: int
    follow_on: tuple[str, ...]
    weight: float


@dataclass(frozen=True)
class Channel:
    code: str
    name: str
    kind: str
    monthly_spend: float
    cost_per_contact: float
    contacts: float
    returns: float
    web: bool
    female_share: float
    age_mean: float
    age_sd: float


@dataclass(frozen=True)
class Administrator:
    branch: str
    name: str
    conversion: float
    quality: float
    weight: float


@dataclass(frozen=True)
class Doctor:
    branch: str
    name: str
    specialty: str
    conversion: float
    over_promise: float
    quality: float
    course_completion: float
    repeat_rate: float
    over_treatment: float
    weight: float


@dataclass(frozen=True)
class Scenario:
    name: str
    country: str
    currency: str
    language: str
    months: int
    end_date: dt.date
    price_factor: float
    demand_factor: float
    patients: int
    branches: tuple[Branch, ...]
    services: tuple[Service, ...]
    channels: tuple[Channel, ...]
    administrators: tuple[Administrator, ...]
    doctors: tuple[Doctor, ...]
    price_schedule: tuple[tuple[int, float], ...]
    elasticity_step: float
    calls_change_per_step: float
    season_monthly: tuple[float, ...]
    season_weekday: tuple[float, ...]
    holidays: tuple[tuple[tuple[int, int], tuple[int, int]], ...]
    holiday_factor: float
    trend_per_year: float
    spend_jitter: float
    spend_trend_per_year: float
    contacts: dict[str, Any]
    schedule: dict[str, Any]
    appointments: dict[str, Any]
    satisfaction: dict[str, float]
    aftercare: dict[str, Any]
    recall: dict[str, float]
    loyalty: dict[str, Any]
    source: str = "default"
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def service(self, code: str) -> Service:
        for s in self.services:
            if s.code == code:
                return s
        raise KeyError(code)

    @property
    def first_visit_service(self) -> Service:
        return next(s for s in self.services if s.first_visit)


# --- reading ------------------------------------------------------------------------------------


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ScenarioError(f"scenario file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from exc


def resolve_path(name: str | Path) -> Path:
    """A path, or the name of a bundled scenario (``chain-1m`` or ``chain-1m.toml``)."""
    path = Path(name)
    if path.exists():
        return path
    bundled = SCENARIO_DIR / (path.name if path.suffix == ".toml" else f"{path.name}.toml")
    if bundled.exists():
        return bundled
    raise ScenarioError(f"scenario file not found: {name}")


def load_scenario(
    path: str | Path | None = None,
    *,
    overrides: dict[str, Any] | None = None,
    today: dt.date | None = None,
) -> Scenario:
    """Read a scenario (default.toml when ``path`` is None), merged over the defaults, then
    ``overrides`` (a nested dict in the same shape) over that."""
    data = _read_toml(DEFAULT_SCENARIO)
    source = "default"
    if path is not None:
        resolved = resolve_path(path)
        if resolved.resolve() != DEFAULT_SCENARIO:
            data = _merge(data, _read_toml(resolved))
        source = resolved.name
    if overrides:
        data = _merge(data, overrides)
    return parse_scenario(data, source=source, today=today)


class _R:
    """Reads one table with the key path for error messages."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise ScenarioError(f"{path}: must be a table")
        self.data = data
        self.path = path

    def _key(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise ScenarioError(f"{self._key(key)}: is required")
            return default
        return self.data[key]

    def num(self, key: str, default: Any = ..., lo: float | None = None, hi: float | None = None) -> float:
        value = self.raw(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError(f"{self._key(key)}: must be a number (got {value!r})")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            rng = (
                f"between {lo:g} and {hi:g}"
                if lo is not None and hi is not None
                else (f"at least {lo:g}" if lo is not None else f"at most {hi:g}")
            )
            raise ScenarioError(f"{self._key(key)}: must be {rng} (got {value!r})")
        return float(value)

    def rate(self, key: str, default: Any = ...) -> float:
        return self.num(key, default, 0.0, 1.0)

    def integer(self, key: str, default: Any = ..., lo: int | None = None, hi: int | None = None) -> int:
        value = self.raw(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScenarioError(f"{self._key(key)}: must be an integer (got {value!r})")
        self.num(key, default, lo, hi)
        return int(value)

    def text(self, key: str, default: Any = ..., choices: tuple[str, ...] | None = None) -> str:
        value = self.raw(key, default)
        if not isinstance(value, str):
            raise ScenarioError(f"{self._key(key)}: must be a string (got {value!r})")
        if choices is not None and value not in choices:
            raise ScenarioError(f"{self._key(key)}: must be one of {', '.join(choices)} (got {value!r})")
        return value

    def flag(self, key: str, default: Any = ...) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise ScenarioError(f"{self._key(key)}: must be true or false (got {value!r})")
        return value

    def table(self, key: str) -> _R:
        return _R(self.raw(key, {}), self._key(key))

    def array(self, key: str, min_len: int = 0) -> list[Any]:
        value = self.raw(key)
        if not isinstance(value, list):
            raise ScenarioError(f"{self._key(key)}: must be an array")
        if len(value) < min_len:
            raise ScenarioError(f"{self._key(key)}: needs at least {min_len} entries")
        return value

    def tables(self, key: str, min_len: int = 1) -> list[_R]:
        return [_R(v, f"{self._key(key)}[{i}]") for i, v in enumerate(self.array(key, min_len))]

    def numbers(self, key: str, length: int | None = None, lo: float = 0.0) -> tuple[float, ...]:
        values = self.array(key)
        if length is not None and len(values) != length:
            raise ScenarioError(f"{self._key(key)}: needs exactly {length} numbers (got {len(values)})")
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, int | float) or v < lo:
                raise ScenarioError(f"{self._key(key)}[{i}]: must be a number ≥ {lo:g} (got {v!r})")
        return tuple(float(v) for v in values)

    def mix(self, key: str, names: tuple[str, ...]) -> dict[str, float]:
        t = self.table(key)
        for k in t.data:
            if k not in names:
                raise ScenarioError(f"{t._key(k)}: unknown key (expected one of {', '.join(names)})")
        out = {n: t.num(n, 0.0, 0.0) for n in names}
        if sum(out.values()) <= 0:
            raise ScenarioError(f"{self._key(key)}: the shares must not all be zero")
        return out


def _unique(items: list[str], path: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item in seen:
            raise ScenarioError(f"{path}[{i}]: duplicate {item!r}")
        seen.add(item)


def _month_day(value: Any, path: str) -> tuple[int, int]:
    try:
        month, day = (int(x) for x in str(value).split("-"))
        dt.date(2000, month, day)
    except (ValueError, TypeError) as exc:
        raise ScenarioError(f"{path}: must be a month-day like '05-09' (got {value!r})") from exc
    return month, day


def parse_scenario(
    data: dict[str, Any], *, source: str = "default", today: dt.date | None = None
) -> Scenario:
    top = _R(data, "")
    c = top.table("clinic")
    end_raw = c.text("end_date", "")
    if end_raw:
        try:
            end_date = dt.date.fromisoformat(end_raw)
        except ValueError as exc:
            raise ScenarioError(f"clinic.end_date: must be an ISO date YYYY-MM-DD (got {end_raw!r})") from exc
    else:
        end_date = today or dt.date.today()  # noqa: DTZ011 - the clinic's "today" as a calendar date
    months = c.integer("months", lo=1, hi=240)

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
    branch_slugs = tuple(b.slug for b in branches)

    services = []
    for s in top.tables("services"):
        services.append(
            Service(
                code=s.text("code"),
                name=s.text("name"),
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
                kind=ch.text("kind", choices=CHANNEL_KINDS),
                monthly_spend=spend,
                cost_per_contact=cpc,
                contacts=ch.num("contacts", 0.0, 0.0),
                returns=returns,
                web=ch.flag("web", False),
                female_share=ch.rate("female_share", 0.8),
                age_mean=ch.num("age_mean", 38.0, 14.0, 90.0),
                age_sd=ch.num("age_sd", 10.0, 0.0, 40.0),
            )
        )
    _unique([ch.code for ch in channels], "channels")
    if not any(ch.kind == "referral" for ch in channels):
        raise ScenarioError("channels: a channel of kind 'referral' is required (referrals land there)")

    admins = []
    for a in top.tables("administrators"):
        admins.append(
            Administrator(
                branch=a.text("branch", choices=branch_slugs),
                name=a.text("name"),
                conversion=a.rate("conversion"),
                quality=a.num("quality", lo=0.0, hi=100.0),
                weight=a.num("weight", 1.0, 0.0),
            )
        )
    for slug in branch_slugs:
        if not any(a.branch == slug for a in admins):
            raise ScenarioError(f"administrators: branch {slug!r} has no administrator")

    doctors = []
    for d in top.tables("doctors"):
        doctors.append(
            Doctor(
                branch=d.text("branch", choices=branch_slugs),
                name=d.text("name"),
                specialty=d.text("specialty", choices=ROOM_TYPES),
                conversion=d.rate("conversion"),
                over_promise=d.num("over_promise", 0.0, -5.0, 5.0),
                quality=d.num("quality", lo=0.0, hi=10.0),
                course_completion=d.rate("course_completion"),
                repeat_rate=d.rate("repeat_rate"),
                over_treatment=d.num("over_treatment", 0.0, 0.0, 5.0),
                weight=d.num("weight", 1.0, 0.0),
            )
        )
    for i, doc in enumerate(doctors):
        branch = next(b for b in branches if b.slug == doc.branch)
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

    fvp = top.table("first_visit_price")
    schedule = []
    for i, item in enumerate(fvp.array("schedule", 1)):
        r = _R(item, f"first_visit_price.schedule[{i}]")
        schedule.append((r.integer("month", lo=0), r.num("price", lo=0.0)))
    schedule.sort()
    if schedule[0][0] != 0:
        raise ScenarioError("first_visit_price.schedule: the first entry must be month = 0")

    se = top.table("seasonality")
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
    sp = top.table("spend")
    ct = top.table("contacts")
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
    sc = top.table("schedule")
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
    ap = top.table("appointments")
    appointments: dict[str, Any] = {
        "no_show": ap.rate("no_show"),
        "cancelled": ap.rate("cancelled"),
        "first_visit_no_show": ap.rate("first_visit_no_show"),
        "reschedule": ap.rate("reschedule"),
        "payment_methods": ap.mix("payment_methods", PAYMENT_METHODS),
    }
    if appointments["no_show"] + appointments["cancelled"] >= 1:
        raise ScenarioError("appointments.cancelled: no_show + cancelled must be below 1")
    sa = top.table("satisfaction")
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
    af = top.table("aftercare")
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
    rc = top.table("recall")
    recall = {
        "every_months": float(rc.integer("every_months", lo=1, hi=24)),
        "lapsed_days": float(rc.integer("lapsed_days", lo=30, hi=1000)),
        "contact_share": rc.rate("contact_share"),
        "return_week": rc.rate("return_week"),
        "return_two_months": rc.rate("return_two_months"),
    }
    if recall["return_week"] + recall["return_two_months"] > 1:
        raise ScenarioError("recall.return_two_months: return_week + return_two_months must be at most 1")
    lo_ = top.table("loyalty")
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
    return Scenario(
        name=c.text("name"),
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
        source=source,
        raw=data,
    )
