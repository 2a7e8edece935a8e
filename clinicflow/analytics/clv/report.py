"""Output shapes of a CLV run: the JSON document, the CSV patient table, a text summary.

Parameters and probabilities are rounded to 6 significant figures, money to 2 decimals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np

from clinicflow.analytics.clv.predict import ClvResult
from clinicflow.core.money import MINOR_UNITS, Money

CSV_COLUMNS = (
    "patient_id",
    "frequency",
    "recency",
    "T",
    "monetary",
    "p_alive",
    "expected_visits",
    "expected_value",
    "clv",
)
CENT = Decimal("0.01")


def sig6(value: float) -> float:
    """``value`` rounded to 6 significant figures."""
    return float(f"{value:.6g}")


def money(value: float | Decimal) -> Decimal:
    """``value`` rounded half-up to 2 decimals, as an exact Decimal."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"money value is not finite: {value}")
        value = Decimal(repr(value))
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money_text(value: float | Decimal, currency: str | None = None) -> str:
    """Money for the text summary: ``1,234.50 RUB`` with a currency (its minor units, digits
    grouped), else the plain 2-decimal figure as before (``1234.50``)."""
    if not currency:
        return str(money(value))
    amount = money(value).quantize(Decimal(1).scaleb(-MINOR_UNITS[currency]), rounding=ROUND_HALF_UP)
    cash = Money(amount, currency)
    return f"{cash.amount:,} {cash.currency}"


@dataclass(frozen=True, slots=True)
class PatientLabel:
    """How the text summary names a patient: her name and the link to her card."""

    name: str
    url: str


def patient_records(result: ClvResult) -> list[dict[str, Any]]:
    """One dict per patient with the CSV/JSON columns (money as Decimal)."""
    s, pr = result.summary, result.predictions
    return [
        {
            "patient_id": s.patient_ids[i],
            "frequency": int(s.frequency[i]),
            "recency": sig6(float(s.recency[i])),
            "T": sig6(float(s.T[i])),
            "monetary": money(s.monetary[i]),
            "p_alive": sig6(float(pr.p_alive[i])),
            "expected_visits": sig6(float(pr.expected_visits[i])),
            "expected_value": money(float(pr.expected_value[i])),
            "clv": money(float(pr.clv[i])),
        }
        for i in range(len(s))
    ]


def as_json(result: ClvResult) -> dict[str, Any]:
    """The ``--json`` document (money values as numbers with 2 decimals)."""
    bg, gg = result.bgnbd, result.gamma_gamma
    patients = [
        {k: (float(v) if isinstance(v, Decimal) else v) for k, v in record.items()}
        for record in patient_records(result)
    ]
    bg_doc: dict[str, Any] = {
        "r": sig6(bg.params.r),
        "alpha": sig6(bg.params.alpha),
        "a": sig6(bg.params.a),
        "b": sig6(bg.params.b),
        "log_likelihood": sig6(bg.log_likelihood),
        "std_err": {
            "r": _sig6_or_none(bg.std_err.r),
            "alpha": _sig6_or_none(bg.std_err.alpha),
            "a": _sig6_or_none(bg.std_err.a),
            "b": _sig6_or_none(bg.std_err.b),
        },
    }
    if bg.boundary is not None and bg.p_dropout is not None and bg.p_dropout_se is not None:
        # a and b are at the bound a + b = 1e6; only p = a / (a + b) is identified.
        bg_doc["boundary"] = bg.boundary
        bg_doc["p"] = sig6(bg.p_dropout)
        bg_doc["std_err"]["p"] = sig6(bg.p_dropout_se)
    gg_doc: dict[str, Any] = {
        "p": sig6(gg.params.p),
        "q": sig6(gg.params.q),
        "v": sig6(gg.params.v),
        "log_likelihood": sig6(gg.log_likelihood),
        "std_err": {
            "p": _sig6_or_none(gg.std_err.p),
            "q": _sig6_or_none(gg.std_err.q),
            "v": _sig6_or_none(gg.std_err.v),
        },
    }
    if gg.boundary is not None and gg.scale is not None and gg.scale_se is not None:
        # p is at the bound 1e6 and v = scale / p; only q and scale = p v are identified.
        gg_doc["boundary"] = gg.boundary
        gg_doc["scale"] = sig6(gg.scale)
        gg_doc["std_err"]["scale"] = sig6(gg.scale_se)
    return {
        "time_unit": result.summary.time_unit,
        "until": result.summary.until.isoformat(),
        "bgnbd": bg_doc,
        "gamma_gamma": gg_doc,
        "patients": patients,
    }


def _sig6_or_none(value: float) -> float | None:
    return sig6(value) if math.isfinite(value) else None


def boundary_notes(result: ClvResult) -> list[str]:
    """Plain-language notes on fits that ended at a boundary of their model (may be empty)."""
    bg, gg = result.bgnbd, result.gamma_gamma
    notes = []
    if bg.boundary is not None and bg.p_dropout is not None and bg.p_dropout_se is not None:
        notes.append(
            "note: dropout probability is the same for every patient: "
            f"p = {_pm(bg.p_dropout, bg.p_dropout_se)} after each repeat visit "
            "(BG/NBD boundary a, b -> infinity; shown at a + b = 1e+06, where the predictions "
            "have converged; a and b have no standard errors)"
        )
    if gg.boundary is not None and gg.scale is not None and gg.scale_se is not None:
        mean = f"{gg.scale / (gg.params.q - 1.0):.6g}" if gg.params.q > 1.0 else "infinite"
        notes.append(
            "note: each patient's visits are all worth the same: value per visit is "
            f"inverse-gamma over patients, q = {_pm(gg.params.q, gg.std_err.q)}, "
            f"p v = {_pm(gg.scale, gg.scale_se)} (mean {mean}); a patient's expected value per "
            "visit is her own mean (Gamma-Gamma boundary p -> infinity, v -> 0; shown at p = 1e+06)"
        )
    return notes


def csv_rows(result: ClvResult) -> list[list[str]]:
    """The ``--csv`` table: a header row, then one row per patient."""
    rows: list[list[str]] = [list(CSV_COLUMNS)]
    for record in patient_records(result):
        rows.append([_cell(record[c]) for c in CSV_COLUMNS])
    return rows


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def text_summary(
    result: ClvResult,
    *,
    top: int = 10,
    currency: str | None = None,
    labels: Mapping[str, PatientLabel] | None = None,
) -> str:
    """A human-readable summary: parameters, counts and the patients with the highest CLV.

    Money carries ``currency`` when given; with ``labels`` the top patients are listed by name with
    the link to their card (a patient without a label keeps her id), else by id.
    """
    s, bg, gg, pr = result.summary, result.bgnbd, result.gamma_gamma, result.predictions
    unit = s.time_unit
    repeaters = int(np.count_nonzero(s.frequency))
    lines = [
        f"CLV until {s.until.isoformat()} (time unit: {unit})",
        f"patients: {len(s)}, with repeat visits: {repeaters}, repeat visits: {int(s.frequency.sum())}",
        "",
        "BG/NBD visit model (estimate ± standard error):",
        f"  r = {_pm(bg.params.r, bg.std_err.r)}   alpha = {_pm(bg.params.alpha, bg.std_err.alpha)} {unit}s",
        f"  a = {_pm(bg.params.a, bg.std_err.a)}   b = {_pm(bg.params.b, bg.std_err.b)}"
        + (f"   p = a/(a+b) = {_pm(bg.p_dropout, bg.p_dropout_se)}" if bg.p_dropout is not None else ""),
        f"  log-likelihood = {bg.log_likelihood:.6g}",
        "Gamma-Gamma value-per-visit model:",
        f"  p = {_pm(gg.params.p, gg.std_err.p)}   q = {_pm(gg.params.q, gg.std_err.q)}"
        f"   v = {_pm(gg.params.v, gg.std_err.v)}"
        + (f"   p v = {_pm(gg.scale, gg.scale_se)}" if gg.scale is not None else ""),
        f"  log-likelihood = {gg.log_likelihood:.6g} ({gg.n_patients} patients with repeat visits)",
        *boundary_notes(result),
        "",
        f"expected visits in the next {result.predict_units:g} {unit}s: "
        f"{float(pr.expected_visits.sum()):.6g}",
        f"expected patients still active: {float(pr.p_alive.sum()):.6g} of {len(s)}",
        f"total CLV over {result.horizon_months} months: {money_text(float(pr.clv.sum()), currency)}",
        "",
    ]
    order = _top_order(result, top)
    if order.size:
        lines.append(f"top {order.size} patients by CLV:")
        first = "patient" if labels is not None else "patient_id"
        header = (first, "visits", "p_alive", "exp_visits", "value/visit", "clv")
        table = [header] + [
            (
                _patient_cell(s.patient_ids[i], labels),
                str(int(s.frequency[i]) + 1),
                f"{pr.p_alive[i]:.3f}",
                f"{pr.expected_visits[i]:.3f}",
                money_text(float(pr.expected_value[i]), currency),
                money_text(float(pr.clv[i]), currency),
            )
            for i in order
        ]
        links = [""] + [_patient_link(s.patient_ids[i], labels) for i in order]
        widths = [max(len(row[c]) for row in table) for c in range(len(header))]
        for row, link in zip(table, links, strict=True):
            cells = [row[0].ljust(widths[0])] + [row[c].rjust(widths[c]) for c in range(1, len(row))]
            lines.append(("  " + "  ".join(cells) + ("  " + link if link else "")).rstrip())
    return "\n".join(lines) + "\n"


def _top_order(result: ClvResult, top: int) -> np.ndarray[Any, np.dtype[np.intp]]:
    return np.argsort(-result.predictions.clv, kind="stable")[:top]


def top_patient_ids(result: ClvResult, top: int) -> list[str]:
    """The ids of the ``top`` patients by CLV, in the order of the text summary."""
    return [result.summary.patient_ids[i] for i in _top_order(result, top)]


def _patient_cell(patient_id: str, labels: Mapping[str, PatientLabel] | None) -> str:
    label = labels.get(patient_id) if labels is not None else None
    return label.name if label is not None and label.name else patient_id


def _patient_link(patient_id: str, labels: Mapping[str, PatientLabel] | None) -> str:
    label = labels.get(patient_id) if labels is not None else None
    return label.url if label is not None else ""


def _pm(value: float, err: float | None) -> str:
    if err is None or not math.isfinite(err):
        return f"{value:.6g} (at the bound)"
    return f"{value:.6g} ± {err:.3g}"
