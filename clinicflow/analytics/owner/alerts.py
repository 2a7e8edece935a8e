"""The owner's alerts (issue #17): what the worker's daily check looks for. Pure reads — each check
returns ``Finding``s; ``owner.alerts_services`` stores them (once per metric, subject and period) and
e-mails them.

Two kinds of finding, each read through the figure's one definition:

- **threshold** — the owner's rules (``AlertRule``): an administrator's conversion of unique calls into
  booked first visits (the administrators report), a doctor's NPS (the NPS report), the NPS and the
  no-show rate of a branch or the chain (the day facts, as on the owner home), and next week's load
  (the capacity report). Over the rule's last ``window_days`` complete days up to the last Sunday
  (next week's load: the coming Monday..Sunday), so a daily check finds one period per week.
- **range** — with no rule: a share that fell out of its normal range, i.e. the last ``RANGE_DAYS``
  days against the ``BASELINE_DAYS`` days before them, a one-sided two-proportion z-test at
  ``Z_LIMIT`` (about 1 in 740 by chance per check): each administrator's conversion, and the two
  funnel steps that are complete as soon as a period ends — leads and unique calls → booked first
  visits, booked → arrived (the later steps mature for months, so a recent period always looks low).

Values are percent for shares and points for NPS."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from clinicflow.analytics.owner.alert_models import AlertRule
from clinicflow.analytics.owner.funnel import funnel_counts
from clinicflow.analytics.owner.selectors import day_totals
from clinicflow.analytics.reports.acquisition.administrators import administrator_rows
from clinicflow.analytics.reports.capacity import compute_load
from clinicflow.analytics.reports.feedback.satisfaction import satisfaction_rows
from clinicflow.analytics.reports.feedback.stats import nps_interval
from clinicflow.core.models import Branch, Organization
from clinicflow.core.selectors import branch_list

RANGE_DAYS = 14
BASELINE_DAYS = 84
Z_LIMIT = 3.0
MIN_RANGE_N = 20  # calls or contacts in the checked period and in the baseline, each
MIN_THRESHOLD_N = 10  # calls, answers or appointments a threshold is judged on


@dataclass(frozen=True)
class Metric:
    label: Any
    help: Any
    higher_is_better: bool
    unit: str  # percent | points
    rule: bool  # the owner may set a threshold on it


METRICS: dict[str, Metric] = {
    "admin_conversion": Metric(
        _("Administrator's conversion"),
        _("Unique calls the administrator handled that became booked first visits (administrators report)."),
        True,
        "percent",
        True,
    ),
    "doctor_nps": Metric(
        _("Doctor's NPS"), _("NPS of the doctor's survey answers (NPS report)."), True, "points", True
    ),
    "nps": Metric(
        _("NPS"), _("(Promoters 9-10 - detractors 0-6) / all answers x 100."), True, "points", True
    ),
    "no_show_rate": Metric(
        _("No-show rate"),
        _("No-shows / appointments starting in the period (any status)."),
        False,
        "percent",
        True,
    ),
    "load_next_week": Metric(
        _("Load next week"),
        _("Booked minutes / available minutes of the doctors' working hours, Monday to Sunday ahead."),
        True,
        "percent",
        True,
    ),
    "funnel_booked": Metric(
        _("Funnel: booked first visits"),
        _("Booked first visits / leads and unique calls (the lifecycle funnel)."),
        True,
        "percent",
        False,
    ),
    "funnel_arrived": Metric(
        _("Funnel: arrived"),
        _("First patients / booked first visits (the lifecycle funnel)."),
        True,
        "percent",
        False,
    ),
}
RULE_METRICS = tuple(k for k, m in METRICS.items() if m.rule)


@dataclass(frozen=True)
class Finding:
    metric: str
    source: str  # threshold | range
    subject: str
    subject_label: str
    branch: Branch | None
    period_start: dt.date
    period_end: dt.date
    value: float
    count: int
    baseline: float | None = None
    threshold: float | None = None

    @property
    def scope(self) -> str:
        return str(self.branch.pk) if self.branch is not None else ""


def last_weeks(today: dt.date, days: int) -> tuple[dt.date, dt.date]:
    """``days`` complete days up to the last Sunday before ``today``."""
    end = today - dt.timedelta(days=today.weekday() + 1)
    return end - dt.timedelta(days=days - 1), end


def next_week(today: dt.date) -> tuple[dt.date, dt.date]:
    start = today + dt.timedelta(days=7 - today.weekday())
    return start, start + dt.timedelta(days=6)


def z_score(x1: int, n1: int, x0: int, n0: int) -> float | None:
    """The pooled two-proportion z of ``x1/n1`` against ``x0/n0`` (None with too few to judge)."""
    if n1 < MIN_RANGE_N or n0 < MIN_RANGE_N:
        return None
    p = (x1 + x0) / (n1 + n0)
    if p <= 0 or p >= 1:
        return None
    return (x1 / n1 - x0 / n0) / math.sqrt(p * (1 - p) * (1 / n1 + 1 / n0))


def _pct(x: int, n: int) -> float:
    return round(100 * x / n, 2)


def range_findings(*, org: Organization, today: dt.date) -> list[Finding]:
    """Shares of the last ``RANGE_DAYS`` days that fell below their normal range (chain-wide)."""
    d0, d1 = last_weeks(today, RANGE_DAYS)
    b1 = d0 - dt.timedelta(days=1)
    b0 = b1 - dt.timedelta(days=BASELINE_DAYS - 1)
    pairs: list[tuple[str, str, str, int, int, int, int]] = []
    before = {r["administrator_id"]: r for r in administrator_rows(org=org, date_from=b0, date_to=b1)}
    for r in administrator_rows(org=org, date_from=d0, date_to=d1):
        old = before.get(r["administrator_id"])
        if old is not None:
            pairs.append(
                (
                    "admin_conversion",
                    r["administrator_id"],
                    r["administrator"],
                    r["booked"],
                    r["unique_calls"],
                    old["booked"],
                    old["unique_calls"],
                )
            )
    now = funnel_counts(org=org, date_from=d0, date_to=d1, branch=None)
    then = funnel_counts(org=org, date_from=b0, date_to=b1, branch=None)
    for metric, top, step in (
        ("funnel_booked", "leads_calls", "booked"),
        ("funnel_arrived", "booked", "arrived"),
    ):
        pairs.append((metric, step, "", now[step] or 0, now[top] or 0, then[step] or 0, then[top] or 0))
    out = []
    for metric, subject, label, x1, n1, x0, n0 in pairs:
        z = z_score(x1, n1, x0, n0)
        if z is not None and z <= -Z_LIMIT:
            out.append(
                Finding(
                    metric, "range", subject, label, None, d0, d1, _pct(x1, n1), n1, baseline=_pct(x0, n0)
                )
            )
    return out


def _breaches(metric: str, value: float, threshold: float) -> bool:
    return value < threshold if METRICS[metric].higher_is_better else value > threshold


def rule_findings(*, org: Organization, rule: AlertRule, today: dt.date) -> list[Finding]:
    """The rule's breaches: per administrator or doctor, per branch for next week's load."""
    threshold = float(rule.threshold)
    rows: list[tuple[str, str, float, int, Branch | None]] = []
    if rule.metric == "load_next_week":
        d0, d1 = next_week(today)
        for b in [rule.branch] if rule.branch is not None else branch_list(org=org):
            load = compute_load(org=org, branch=b, date_from=d0, date_to=d1).total()["load"]
            if load is not None:
                rows.append((str(b.pk), b.display_name, round(100 * load, 2), 1, b))
    else:
        d0, d1 = last_weeks(today, rule.window_days)
        values = _values(org, rule.metric, d0, d1, rule.branch)
        rows = [(subject, label, value, n, rule.branch) for subject, label, value, n in values]
    return [
        Finding(rule.metric, "threshold", subject, label, b, d0, d1, value, n, threshold=threshold)
        for subject, label, value, n, b in rows
        if _breaches(rule.metric, value, threshold)
    ]


def _values(
    org: Organization, metric: str, d0: dt.date, d1: dt.date, branch: Branch | None
) -> list[tuple[str, str, float, int]]:
    """(subject, its label, value, what it is measured on) of a metric over ``d0``..``d1``."""
    if metric == "admin_conversion":
        rows = administrator_rows(org=org, date_from=d0, date_to=d1, branch=branch)
        return [
            (
                r["administrator_id"],
                r["administrator"],
                _pct(r["booked"], r["unique_calls"]),
                r["unique_calls"],
            )
            for r in rows
            if r["unique_calls"] >= MIN_THRESHOLD_N
        ]
    if metric == "doctor_nps":
        rows = satisfaction_rows(org=org, date_from=d0, date_to=d1, branch=branch, group="doctor")
        return [
            (r["group_id"], r["group"], float(r["nps"]), r["answers"])
            for r in rows
            if r["group_id"] and r["nps"] is not None and r["answers"] >= MIN_THRESHOLD_N
        ]
    facts = day_totals(org=org, d0=d0, d1=d1, branch=branch)
    if metric == "nps":
        nps = nps_interval(facts["promoters"], facts["detractors"], facts["answers"])[0]
        ok = nps is not None and facts["answers"] >= MIN_THRESHOLD_N
        return [("", "", float(nps), facts["answers"])] if ok and nps is not None else []
    if metric == "no_show_rate":
        n = facts["appointments"]
        return [("", "", _pct(facts["no_shows"], n), n)] if n >= MIN_THRESHOLD_N else []
    raise ValueError(f"unknown alert metric {metric!r}")


def findings(*, org: Organization, today: dt.date, rules: list[AlertRule]) -> list[Finding]:
    """Everything the check finds as of ``today`` (a branch-local date)."""
    out = range_findings(org=org, today=today)
    for rule in rules:
        out.extend(rule_findings(org=org, rule=rule, today=today))
    return out
