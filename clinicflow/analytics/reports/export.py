"""CSV and XLSX exports of a report. Cells starting with = + - @ (and tab/CR) are neutralised."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

from clinicflow.analytics.reports.base import ReportContext, ReportResult, ReportSpec, json_value

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(DANGEROUS):
        return "'" + value
    return value


def _rows(spec: ReportSpec, result: ReportResult) -> list[list[Any]]:
    out = [[str(c.label) for c in spec.columns]]
    body = list(result.rows)
    if result.totals:
        body.append(result.totals)
    for row in body:
        out.append([safe_cell(_plain(row.get(c.key))) for c in spec.columns])
    return out


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    return json_value(value) if not isinstance(value, int | float | Decimal) else value


def to_csv(spec: ReportSpec, ctx: ReportContext, result: ReportResult) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in _rows(spec, result):
        writer.writerow(row)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(spec: ReportSpec, ctx: ReportContext, result: ReportResult) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = spec.name[:31]
    ws.append([str(spec.title), f"{ctx.date_from.isoformat()} – {ctx.date_to.isoformat()}", result.currency])
    for row in _rows(spec, result):
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
