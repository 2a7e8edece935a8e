"""A scenario: every planted parameter of a simulation (read and validated by
:mod:`.parse`), and the fixed vocabularies it uses."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

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
    name_en: str  # the English name beside the clinic's own ("" = none)
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
    name_en: str
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
    name_en: str
    kind: str
    monthly_spend: float
    cost_per_contact: float
    contacts: float
    returns: float
    web: bool
    female_share: float
    age_mean: float
    age_sd: float
    # planted patient quality: the channel's patients' own return rate λ times this (1.0: the population's)
    return_factor: float = 1.0


@dataclass(frozen=True)
class Administrator:
    branch: str
    name: str
    name_en: str
    conversion: float
    quality: float
    weight: float


@dataclass(frozen=True)
class Doctor:
    branch: str
    name: str
    name_en: str
    specialty: str
    conversion: float
    over_promise: float
    quality: float
    course_completion: float
    repeat_rate: float
    over_treatment: float
    weight: float  # relative load: first patients go to doctors by weight × free capacity
    work_days: tuple[int, ...] = ()  # planted weekdays (0 = Monday); () = the automatic shifts
    hours: tuple[int, int] | None = None  # planted shift (local hours from, until); None = automatic


@dataclass(frozen=True)
class Heterogeneity:
    """Patients' own return rate λ ~ Gamma(shape r, rate alpha) per week and dropout propensity
    p ~ Beta(a, b); ``enabled = false`` gives every patient the population means."""

    enabled: bool
    r: float
    alpha: float  # weeks
    a: float
    b: float

    @property
    def mean_rate(self) -> float:
        return self.r / self.alpha

    @property
    def mean_dropout(self) -> float:
        return self.a / (self.a + self.b)


@dataclass(frozen=True)
class Scenario:
    name: str
    name_en: str
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
    heterogeneity: Heterogeneity
    source: str = "default"
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    changes: tuple[Any, ...] = ()  # [[changes]]: scenario.changes.Change, levers moved mid-run

    def service(self, code: str) -> Service:
        for s in self.services:
            if s.code == code:
                return s
        raise KeyError(code)

    @property
    def first_visit_service(self) -> Service:
        return next(s for s in self.services if s.first_visit)
