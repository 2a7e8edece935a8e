"""Calibration and hold-out check of the BG/NBD visit model (Fader, Hardie & Lee 2005, section 4).

The model is fitted on the visits up to a cut date (the calibration period); for every patient seen
by then it predicts the visits of the hold-out period that follows, E[Y(t) | x, t_x, T] (equation
10), and the prediction is compared with the visits she actually made. Patients are grouped into
deciles of predicted visits; per decile the mean predicted and the mean actual visits are shown,
and overall the mean absolute error per patient and the ratio of total predicted to total actual
visits. (The Python package lifetimes calls this ``calibration_and_holdout_data``.)

Visits are counted as in :mod:`.summary`: all purchases of a patient on one day are one visit.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from clinicflow.analytics.clv import bgnbd
from clinicflow.analytics.clv.org_source import load_org_transactions
from clinicflow.analytics.clv.summary import DAYS_PER_UNIT, PatientSummary, summarise

CALIBRATION_MONTHS = 18  # default cut: this many months after the first visit in the data
HOLDOUT_MONTHS = 6
DECILES = 10

Row = tuple[str, dt.date, Decimal]


class CalibrationError(ValueError):
    """The data cannot be split into a calibration and a hold-out period as asked."""


@dataclass(frozen=True)
class DecileRow:
    decile: int  # 1 = lowest predicted visits
    patients: int
    mean_predicted: float
    mean_actual: float

    @property
    def error(self) -> float:
        """Mean predicted minus mean actual visits (positive: the model expects too many)."""
        return self.mean_predicted - self.mean_actual


@dataclass(frozen=True)
class Calibration:
    cut: dt.date  # last day of the calibration period
    end: dt.date  # last day of the hold-out period
    fit: bgnbd.BGNBDFit
    summary: PatientSummary
    predicted: np.ndarray  # per patient of the summary, visits in the hold-out
    actual: np.ndarray
    deciles: list[DecileRow]

    @property
    def holdout_weeks(self) -> float:
        return (self.end - self.cut).days / DAYS_PER_UNIT["week"]

    @property
    def patients(self) -> int:
        return int(self.actual.size)

    @property
    def total_predicted(self) -> float:
        return float(self.predicted.sum())

    @property
    def total_actual(self) -> int:
        return int(self.actual.sum())

    @property
    def ratio(self) -> float:
        """Total predicted / total actual hold-out visits (``inf`` when nobody came back)."""
        return self.total_predicted / self.total_actual if self.total_actual else float("inf")

    @property
    def mae(self) -> float:
        """Mean absolute error of a patient's predicted hold-out visits."""
        return float(np.mean(np.abs(self.predicted - self.actual)))


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def decile_table(predicted: np.ndarray, actual: np.ndarray, groups: int = DECILES) -> list[DecileRow]:
    """Patients sorted by predicted visits (ties in a fixed order) and cut into ``groups`` groups of
    equal size (± 1)."""
    order = np.argsort(predicted, kind="stable")
    rows = []
    for i, part in enumerate(np.array_split(order, min(groups, max(order.size, 1)))):
        if part.size:
            rows.append(
                DecileRow(i + 1, int(part.size), float(predicted[part].mean()), float(actual[part].mean()))
            )
    return rows


def calibrate(
    rows: Iterable[Row],
    *,
    cut: dt.date | None = None,
    holdout_months: int = HOLDOUT_MONTHS,
    data_end: dt.date | None = None,
) -> Calibration:
    """Fit on the visits up to ``cut`` (default: 18 months after the first visit), predict each
    patient's visits in the ``holdout_months`` after it and compare. The hold-out ends at
    ``data_end`` (default: the last visit in the data) when that comes earlier. Raises
    :class:`CalibrationError` for an empty calibration or hold-out period, and
    :class:`~clinicflow.analytics.clv.special.FitFailed` when the model cannot be fitted."""
    if holdout_months < 1:
        raise CalibrationError("the hold-out period must be at least one month")
    data = list(rows)
    if not data:
        raise CalibrationError("there are no visits")
    first = min(d for _, d, _ in data)
    last = max(d for _, d, _ in data)
    data_end = data_end or last
    cut = cut or add_months(first, CALIBRATION_MONTHS)
    if cut < first:
        raise CalibrationError(f"the cut {cut} lies before the first visit ({first})")
    end = min(add_months(cut, holdout_months), data_end)
    if end <= cut:
        raise CalibrationError(f"no hold-out period: the data end on {data_end}, not after the cut {cut}")
    summary = summarise(data, until=cut, time_unit="week")
    fit = bgnbd.fit(summary.frequency, summary.recency, summary.T)
    t = (end - cut).days / DAYS_PER_UNIT["week"]
    predicted = bgnbd.conditional_expected_visits(
        fit.params, t, summary.frequency, summary.recency, summary.T
    )
    actual = _holdout_visits(data, summary, cut, end)
    return Calibration(cut, end, fit, summary, predicted, actual, decile_table(predicted, actual))


def _holdout_visits(data: list[Row], summary: PatientSummary, cut: dt.date, end: dt.date) -> np.ndarray:
    """Visit days in (cut, end] of each patient of ``summary`` (patients first seen later ignored)."""
    index = {pid: i for i, pid in enumerate(summary.patient_ids)}
    days = {(index[pid], d) for pid, d, _ in data if cut < d <= end and pid in index}
    counts = np.zeros(len(summary), dtype=np.int64)
    if days:
        np.add.at(counts, np.fromiter((i for i, _ in days), dtype=np.int64, count=len(days)), 1)
    return counts


def calibrate_org(
    slug: str, *, cut: dt.date | None = None, holdout_months: int = HOLDOUT_MONTHS
) -> Calibration:
    """:func:`calibrate` on an organisation's payments (:mod:`.org_source`): the hold-out ends with
    the last payment at the latest. Raises ``org_source.UnknownOrganisation`` for an unknown slug."""
    return calibrate(load_org_transactions(slug), cut=cut, holdout_months=holdout_months)
