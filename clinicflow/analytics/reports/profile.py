"""``patient_profile``: who the clinic's first patients are (seed 004: "the patient profile — sex, age"),
age band × sex, by the channel that brought them.

The population is the channel report's: the period's first patients (their first visit that happened is
in the period), each credited to channels by the chosen attribution model
(``acquisition.first_patients.credited_first_patients``, the same statement), so a channel's count here
equals its "arrived first visits" there. With the default model the report reads the daily channel facts
(``owner.channel_facts``: the first visit's local day, age on that day); another model reads the raw
tables. Age is the patient's age on the day of that first visit (UTC);
no birth date → "age unknown". Counts are credited (linear attribution gives shares of a patient); shares
are of the channel's first patients, and the share of women is of those whose sex is known.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter, defaultdict
from fractions import Fraction
from typing import Any

from django.db import connection
from django.utils.translation import gettext_lazy as _

from clinicflow.acquisition.attribution import DIRECT
from clinicflow.acquisition.models import Channel
from clinicflow.analytics.owner.channel_reads import profile_cells
from clinicflow.analytics.reports.acquisition.channels import MODEL_PARAM
from clinicflow.analytics.reports.acquisition.first_patients import _day, _sql, _uuid, credited_sql
from clinicflow.analytics.reports.base import (
    ChartSpec,
    Column,
    Param,
    ReportContext,
    ReportResult,
    ReportSpec,
    ratio,
    register,
)
from clinicflow.analytics.reports.sqlplan import fetch_all
from clinicflow.core.models import Branch, Organization
from clinicflow.patients.models import Patient

# (lowest age, band); a band runs to the next one's lowest age
BANDS: tuple[tuple[int, str], ...] = (
    (0, "0-17"),
    (18, "18-24"),
    (25, "25-34"),
    (35, "35-44"),
    (45, "45-54"),
    (55, "55-64"),
    (65, "65+"),
)
UNKNOWN_AGE = "unknown"
SEXES = {"F": "women", "M": "men"}  # anything else: sex unknown
GROUP_PARAM = Param(
    name="group",
    label=_("Channels"),
    choices=(("channel", _("By channel")), ("all", _("All channels together"))),
    default="channel",
)


def age_on(born: dt.date, day: dt.date) -> int:
    """Whole years from ``born`` to ``day``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def band_of(born: dt.date | None, day: dt.date) -> str:
    if born is None or born > day:
        return UNKNOWN_AGE
    age = age_on(born, day)
    return next(name for low, name in reversed(BANDS) if age >= low)


Cell = dict[str, Fraction]


def _credited_cells(
    *, org: Organization, start: dt.datetime, end: dt.datetime, branch: Branch | None, model: str
) -> list[tuple[uuid.UUID | None, int, str, dt.date | None, dt.date, int]]:
    """``credited_first_patients`` counted by the database per (channel, den, sex, birth date, UTC day
    of the first visit): fewer rows, and a date instead of a timestamp to read for each."""
    credited, params = credited_sql(org=org, start=start, end=end, branch=branch, model=model)
    people, people_params = _sql(Patient.objects.for_org(org).order_by().values("id", "sex", "birth_date"))
    day = "CAST(c.at AT TIME ZONE 'UTC' AS DATE)" if connection.vendor == "postgresql" else "DATE(c.at)"
    sql = (
        f"WITH {credited}, pt AS ({people}) "  # nosec B608 # noqa: S608 - built from ORM querysets, values bound
        f"SELECT c.ch, c.den, pt.sex, pt.birth_date, {day}, COUNT(*) FROM credited c "
        "JOIN pt ON pt.id = c.p WHERE c.arrived = 1 "
        f"GROUP BY c.ch, c.den, pt.sex, pt.birth_date, {day}"
    )
    return [
        (_uuid(ch), int(den), sex, _day(born), _day(at) or dt.date.min, int(n))
        for ch, den, sex, born, at, n in fetch_all(sql, params + people_params)
    ]


def profile_counts(
    *, org: Organization, start: dt.datetime, end: dt.datetime, branch: Branch | None, model: str
) -> dict[uuid.UUID | None, dict[str, Cell]]:
    """Per channel id (None: direct / unknown) and age band: the credited first patients per sex."""
    out: dict[uuid.UUID | None, dict[str, Cell]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(Fraction))
    )
    # counted as integers per cell and credit first: one exact fraction per cell, not one per patient
    cells: Counter[tuple[uuid.UUID | None, str, str, int]] = Counter()
    for channel, den, sex, born, day, n in _credited_cells(
        org=org, start=start, end=end, branch=branch, model=model
    ):
        cells[(channel, band_of(born, day), SEXES.get(sex, "unknown_sex"), den)] += n
    for (channel, band, sex, den), n in cells.items():
        out[channel][band][sex] += Fraction(n, den)
    return out


def _row(channel: str, band: str, cell: Cell, of: Fraction) -> dict[str, Any]:
    women, men, unknown = (
        cell.get("women", Fraction(0)),
        cell.get("men", Fraction(0)),
        cell.get("unknown_sex", Fraction(0)),
    )
    total = women + men + unknown
    label = band if band != UNKNOWN_AGE else str(_("age unknown"))
    return {
        "channel": channel,
        "age_band": label,
        "label": f"{channel} · {label}" if channel else label,
        "women": round(float(women), 2),
        "men": round(float(men), 2),
        "unknown_sex": round(float(unknown), 2),
        "total": round(float(total), 2),
        "women_share": ratio(float(women), float(women + men)),
        "share": ratio(float(total), float(of)),
    }


def fact_counts(
    *, org: Organization, d0: dt.date, d1: dt.date, branch: Branch | None
) -> dict[uuid.UUID | None, dict[str, Cell]]:
    """``profile_counts`` of the default attribution model from the daily channel facts (the first
    visit's local day; age on that day)."""
    out: dict[uuid.UUID | None, dict[str, Cell]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(Fraction))
    )
    for channel, sex, band, n in profile_cells(org=org, d0=d0, d1=d1, branch=branch):
        out[channel][band][SEXES.get(sex, "unknown_sex")] += n
    return out


def compute(ctx: ReportContext) -> ReportResult:
    model = ctx.params.get("model", MODEL_PARAM.default)
    if model == MODEL_PARAM.default:
        counts = fact_counts(org=ctx.org, d0=ctx.date_from, d1=ctx.date_to, branch=ctx.branch)
    else:  # another attribution model: from the raw tables
        counts = profile_counts(
            org=ctx.org, start=ctx.start_utc(), end=ctx.end_utc(), branch=ctx.branch, model=model
        )
    names = {c.pk: (c.code, c.display_name) for c in Channel.objects.for_org(ctx.org)}
    direct = next((k for k, (code, _name) in names.items() if code == DIRECT), None)
    grouped: dict[str, dict[str, Cell]] = defaultdict(lambda: defaultdict(lambda: defaultdict(Fraction)))
    every = ctx.params.get("group") == "all"
    for channel, bands in counts.items():
        key = channel if channel is not None else direct  # "Direct" and "Direct / unknown" are one
        unknown = ("", str(_("Direct / unknown")))
        name = str(_("All channels")) if every else (names.get(key, unknown) if key else unknown)[1]
        for band, cell in bands.items():
            for sex, n in cell.items():
                grouped[name][band][sex] += n
    order = [name for _low, name in BANDS] + [UNKNOWN_AGE]
    size = {
        name: sum((sum(c.values(), Fraction(0)) for c in bands.values()), Fraction(0))
        for name, bands in grouped.items()
    }
    rows = [
        _row(name, band, grouped[name][band], size[name])
        for name in sorted(grouped, key=lambda n: (-size[n], n))
        for band in order
        if band in grouped[name]
    ]
    if not rows:
        return ReportResult(rows=[])
    overall: Cell = defaultdict(Fraction)
    for bands in grouped.values():
        for cell in bands.values():
            for sex, n in cell.items():
                overall[sex] += n
    totals = _row(str(_("Total")), "", overall, sum(size.values(), Fraction(0)))
    totals["label"] = totals["age_band"] = ""
    note = _("First patients of the period by the channel credited with them; age on the first visit day.")
    return ReportResult(rows=rows, totals=totals, notes=[str(note)])


register(
    ReportSpec(
        name="patient_profile",
        title=_("Patient profile"),
        description=_(
            "First patients of the period by age band and sex, per channel, with counts and shares."
        ),
        permission="reports.marketing",
        columns=(
            Column("channel", _("Channel")),
            Column("age_band", _("Age band")),
            Column("women", _("Women"), "float"),
            Column("men", _("Men"), "float"),
            Column("unknown_sex", _("Sex unknown"), "float"),
            Column("total", _("First patients"), "float"),
            Column("women_share", _("Share of women"), "percent"),
            Column("share", _("Share of the channel"), "percent"),
        ),
        compute=compute,
        chart=ChartSpec(type="bar", x="label", series=("women", "men", "unknown_sex"), stacked=True),
        params=(GROUP_PARAM, MODEL_PARAM),
        default_days=365,
    )
)
