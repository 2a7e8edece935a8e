"""Department scorecards (seed 003): each department judged on the lifecycle stages it owns, never on
sales alone — marketing on reach, leads and acquisition cost (never revenue), consultants on
conversion into treatment and their patients' later satisfaction, repeat visits and expectation gap,
the front desk on unique-call conversion, callbacks of missed calls and call scores, customer service
on follow-ups on time, retention and referrals, doctors on the balanced view.

Each part's value is one existing definition (the day facts, the administrators', follow-ups' and
feedback reports), read for the three periods a scorecard shows (this, the previous, the one before:
the trend) at once, one statement per source grouped by period in SQL (``period_values``; equal to the
per-report reads, ``tests/test_owner_scorecards_fast.py``): the day facts, the front desk's and the
score facts (issue #17, ``score_reads``; ``score_raw`` where never built); its score compares it with
the previous period of the same length: ``100 × v / (v + v_prev)`` when higher is better (50: unchanged),
``100 × v_prev / (v + v_prev)`` when lower is better. A department's score is the weighted mean of
its parts' scores (the owner's weights, ``ScorecardWeight``, else the defaults below); its trend is
the score less the previous period's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Sum,
)
from django.utils.translation import gettext_lazy as _

from clinicflow.acquisition.models import AdSpend
from clinicflow.analytics.models import DayFact, ScorecardWeight
from clinicflow.analytics.owner.admin_reads import admin_period_rows
from clinicflow.analytics.owner.facts import COUNTS
from clinicflow.analytics.owner.score_raw import Period, admin_rows, grouped, raw_periods
from clinicflow.analytics.owner.score_reads import gap_periods, score_periods
from clinicflow.analytics.reports.base import period_bounds, ratio
from clinicflow.analytics.reports.feedback.stats import nps_interval
from clinicflow.core.models import Branch, Organization

# department -> (part, label, higher is better, default weight)
DEPARTMENTS: dict[str, tuple[Any, tuple[tuple[str, Any, bool, int], ...]]] = {
    "marketing": (
        _("Marketing"),
        (
            ("reach", _("Reach: website visits and unique calls"), True, 25),
            ("leads", _("Leads and unique calls"), True, 25),
            ("cost_per_lead", _("Cost per lead or unique call"), False, 25),
            ("cost_per_first", _("Cost per first patient"), False, 25),
        ),
    ),
    "consultants": (
        _("Consultants"),
        (
            ("treatment_conversion", _("First patients treated"), True, 30),
            ("satisfied", _("First patients satisfied"), True, 30),
            ("repeat", _("First patients returned within 6 months"), True, 20),
            ("gap", _("Expectation gap"), False, 20),
        ),
    ),
    "front_desk": (
        _("Front desk"),
        (
            ("call_conversion", _("Unique calls converted into booked first visits"), True, 50),
            ("callbacks", _("Missed calls called back"), True, 25),
            ("call_score", _("Average call score"), True, 25),
        ),
    ),
    "customer_service": (
        _("Customer service"),
        (
            ("followups_on_time", _("Follow-ups done on time"), True, 40),
            ("retention", _("First patients returned within 6 months"), True, 30),
            ("third", _("First patients with a third visit"), True, 15),
            ("referrals", _("First patients who came by referral"), True, 15),
        ),
    ),
    "doctors": (
        _("Doctors"),
        (
            ("nps", _("NPS"), True, 50),
            ("satisfied", _("First patients satisfied"), True, 30),
            ("no_shows", _("No-show rate"), False, 20),
        ),
    ),
}


@dataclass
class Part:
    key: str
    label: str
    weight: int
    higher_better: bool
    value: float | None
    previous: float | None
    score: float | None


@dataclass
class Card:
    key: str
    label: str
    parts: list[Part] = field(default_factory=list)
    score: float | None = None
    previous_score: float | None = None

    @property
    def trend(self) -> float | None:
        if self.score is None or self.previous_score is None:
            return None
        return round(self.score - self.previous_score, 1)


def _num(x: Any) -> float | None:
    return None if x is None else float(x)


def period_values(
    *, org: Organization, periods: list[Period], branch: Branch | None
) -> list[dict[str, dict[str, float | None]]]:
    """Every part's value over each period (None: no data): the same definitions as the reports the
    parts name (the day facts, the administrators', follow-ups' and feedback reports), each read for
    all the periods at once, grouped by period in SQL."""
    days = [(a, b + dt.timedelta(days=1)) for a, b in periods]
    facts_qs = DayFact.objects.for_org(org)
    currency = branch.currency if branch is not None else org.currency
    spend_qs = AdSpend.objects.for_org(org).filter(currency=currency)
    if branch is not None:
        facts_qs, spend_qs = facts_qs.filter(branch=branch), spend_qs.filter(branch=branch)
    facts = grouped(facts_qs, "day", days, **{k: Sum(k) for k in COUNTS})
    spends = grouped(spend_qs, "date", days, spend=Sum("spend"))
    # the score facts (#17, ``score_reads``), else the raw rows
    scored, gaps = score_periods(org, periods, branch), gap_periods(org, periods, branch)
    if scored is None or gaps is None:
        visits, tasks, gaps = raw_periods(org, periods, branch)
    else:
        visits, tasks = scored
    admins = admin_period_rows(org, periods, branch)  # the front desk's facts (#17), else raw calls
    if admins is None:
        admins = admin_rows(org, [period_bounds(a, b, branch) for a, b in periods], branch)
    out = []
    for i in range(len(periods)):
        f = {k: int(facts[i].get(k) or 0) for k in COUNTS}
        out.append(
            _values(
                f,
                Decimal(spends[i].get("spend") or 0),
                visits[i],
                tasks[i][0],
                tasks[i][1],
                admins[i],
                gaps[i],
            )
        )
    return out


def _values(
    facts: dict[str, int],
    spend: Decimal,
    visits: int,
    missed: tuple[int, int],
    tasks: tuple[int, int],
    admins: list[dict[str, Any]],
    gaps: list[dict[str, Any]],
) -> dict[str, dict[str, float | None]]:
    contacts = facts["leads"] + facts["unique_calls"]
    arrived = facts["first_arrived"]
    calls = sum(r["unique_calls"] for r in admins)
    scored = [(r["avg_score"], r["unique_calls"]) for r in admins if r["avg_score"] is not None]
    gap_n = sum(r["gap_answers"] for r in gaps)
    return {
        "marketing": {
            "reach": float(visits + facts["unique_calls"]),
            "leads": float(contacts),
            "cost_per_lead": float(spend / contacts) if spend and contacts else None,
            "cost_per_first": float(spend / arrived) if spend and arrived else None,
        },
        "consultants": {
            "treatment_conversion": ratio(facts["treated"], arrived),
            "satisfied": ratio(facts["satisfied"], arrived),
            "repeat": ratio(facts["returned"], arrived),
            "gap": (sum(r["gap"] * r["gap_answers"] for r in gaps if r["gap"] is not None) / gap_n)
            if gap_n
            else None,
        },
        "front_desk": {
            "call_conversion": ratio(sum(r["booked"] for r in admins), calls),
            "callbacks": ratio(*missed),
            "call_score": sum(s * n for s, n in scored) / sum(n for _s, n in scored) if scored else None,
        },
        "customer_service": {
            "followups_on_time": ratio(*tasks),
            "retention": ratio(facts["returned"], arrived),
            "third": ratio(facts["third"], arrived),
            "referrals": ratio(facts["referred"], arrived),
        },
        "doctors": {
            "nps": _num(nps_interval(facts["promoters"], facts["detractors"], facts["answers"])[0]),
            "satisfied": ratio(facts["satisfied"], arrived),
            "no_shows": ratio(facts["no_shows"], facts["appointments"]),
        },
    }


def part_values(
    *, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None
) -> dict[str, dict[str, float | None]]:
    """Every part's value over one period (None: no data)."""
    return period_values(org=org, periods=[(date_from, date_to)], branch=branch)[0]


def weights(*, org: Organization) -> dict[tuple[str, str], int]:
    """The owner's weights over the defaults."""
    out = {(d, p): w for d, (_label, parts) in DEPARTMENTS.items() for p, _l, _h, w in parts}
    for d, p, w in ScorecardWeight.objects.for_org(org).values_list("department", "part", "weight"):
        if (d, p) in out:
            out[(d, p)] = w
    return out


def _score(v: float | None, prev: float | None, higher: bool, nps: bool = False) -> float | None:
    if v is None or prev is None:
        return None
    if nps:  # NPS runs from -100 to 100: shifted to 0..200 first
        v, prev = v + 100, prev + 100
    if v + prev <= 0:
        return 50.0
    return round(100 * (v if higher else prev) / (v + prev), 1)


def _weighted(parts: list[Part]) -> float | None:
    known = [(p.score, p.weight) for p in parts if p.score is not None and p.weight > 0]
    total = sum(w for _s, w in known)
    return round(sum(s * w for s, w in known) / total, 1) if total else None


def scorecards(
    *, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None
) -> list[Card]:
    days = (date_to - date_from).days + 1
    prev_to = date_from - dt.timedelta(days=1)
    prev_from = prev_to - dt.timedelta(days=days - 1)
    periods = [
        (date_from, date_to),
        (prev_from, prev_to),
        (prev_from - dt.timedelta(days=days), prev_from - dt.timedelta(days=1)),
    ]
    values = period_values(org=org, periods=periods, branch=branch)
    w = weights(org=org)
    cards = []
    for dept, (label, specs) in DEPARTMENTS.items():
        card = Card(key=dept, label=str(label))
        before: list[Part] = []
        for part, part_label, higher, _default in specs:
            now, prev, prev2 = (v[dept][part] for v in values)
            nps = part == "nps"
            card.parts.append(
                Part(
                    part, str(part_label), w[(dept, part)], higher, now, prev, _score(now, prev, higher, nps)
                )
            )
            before.append(
                Part(part, "", w[(dept, part)], higher, prev, prev2, _score(prev, prev2, higher, nps))
            )
        card.score, card.previous_score = _weighted(card.parts), _weighted(before)
        cards.append(card)
    return cards
