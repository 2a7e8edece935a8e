"""The printable receipt of an invoice (PDF, reportlab — the library the clinical quotes use), in the
patient's language: the lines, discounts, what was paid by which method, refunds, what is due.

Latin and Cyrillic are set in DejaVu Sans (the font files the clinical app ships in
``clinical/fonts``, read by path: the ledger does not import its sibling app), Chinese in reportlab's
built-in CID font STSong-Light; every text is escaped."""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from clinicflow.core.formatting import fmt_datetime, fmt_decimal, fmt_money
from clinicflow.ledger.models import Invoice, InvoiceDiscount, InvoiceLine, InvoiceTender, TenderMethod

FONTS = Path(__file__).resolve().parents[2] / "clinical" / "fonts"
CJK = "STSong-Light"


@lru_cache(maxsize=1)
def _register() -> None:
    pdfmetrics.registerFont(TTFont("DejaVuSans", str(FONTS / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(UnicodeCIDFont(CJK))


def _font(language: str) -> str:
    _register()
    return CJK if language.lower().startswith("zh") else "DejaVuSans"


def _rows(
    invoice: Invoice, lines: Sequence[InvoiceLine], tenders: Sequence[InvoiceTender]
) -> tuple[list[list[str]], list[list[str]]]:
    cur = invoice.currency
    items = [[_("Item"), _("Quantity"), _("Unit price"), _("Discount"), _("Total")]]
    for ln in lines:
        name = ln.service.display_name if ln.service is not None else ""
        qty = 0 if ln.quantity == ln.quantity.to_integral_value() else 2
        items.append(
            [
                " — ".join(p for p in (name, ln.description) if p) or _("Payment"),
                fmt_decimal(ln.quantity, qty),
                fmt_money(ln.unit_price, cur),
                fmt_money(ln.discount, cur) if ln.discount else "",
                fmt_money(ln.total, cur),
            ]
        )
    paid = [[_("Time"), _("Operation"), _("Method"), _("Amount")]]
    for t in tenders:
        method = str(TenderMethod(t.method).label)
        if t.points:
            method = f"{method} ({fmt_decimal(t.points, 0)})"
        sign = "-" if t.kind == "refund" else ""
        paid.append(
            [
                fmt_datetime(t.created_at, invoice.branch.tz),
                str(_("Refund") if t.kind == "refund" else _("Payment")),
                method,
                sign + fmt_money(t.amount, cur),
            ]
        )
    return items, paid


def receipt_pdf(
    *,
    invoice: Invoice,
    lines: Sequence[InvoiceLine],
    discounts: Sequence[InvoiceDiscount],
    tenders: Sequence[InvoiceTender],
    language: str,
) -> bytes:
    """The receipt's PDF bytes, texts in ``language``."""
    with translation.override(language):
        font, cur = _font(language), invoice.currency
        body = ParagraphStyle("body", fontName=font, fontSize=10, leading=14)
        head = ParagraphStyle("head", parent=body, fontSize=16, leading=20, spaceAfter=6)
        small = ParagraphStyle(
            "small", parent=body, fontSize=9, leading=12, textColor=colors.HexColor("#444444")
        )
        org = invoice.organization
        story: list[Flowable] = [
            Paragraph(escape(_("Receipt %(number)s") % {"number": invoice.number}), head)
        ]
        for text in (
            org.display_name,
            invoice.branch.display_name,
            _("Patient: %(name)s") % {"name": invoice.patient.full_name},
            _("Date: %(date)s") % {"date": fmt_datetime(invoice.created_at, invoice.branch.tz)},
        ):
            story.append(Paragraph(escape(text), small))
        story.append(Spacer(1, 4 * mm))
        items, paid = _rows(invoice, lines, tenders)
        for table_rows, numeric in ((items, (1, 2, 3, 4)), (paid, (3,))):
            if len(table_rows) < 2:
                continue
            cells = [[Paragraph(escape(str(c)), body) for c in row] for row in table_rows]
            table = Table(cells, repeatRows=1, hAlign="LEFT")
            style = [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5")),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c8ced6")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ] + [("ALIGN", (c, 0), (c, -1), "RIGHT") for c in numeric]
            table.setStyle(TableStyle(style))
            story += [table, Spacer(1, 4 * mm)]
        reasons = [d.reason for d in discounts if d.reason and d.kind != "quote"]
        closing = [
            _("Subtotal: %(amount)s") % {"amount": fmt_money(invoice.subtotal, cur)},
            _("Discount: %(amount)s") % {"amount": fmt_money(invoice.discount, cur)}
            + (f" ({'; '.join(reasons)})" if reasons else ""),
            _("Total: %(total)s") % {"total": fmt_money(invoice.total, cur)},
            _("Paid: %(amount)s") % {"amount": fmt_money(invoice.paid, cur)},
        ]
        if invoice.refunded:
            closing.append(_("Refunded: %(amount)s") % {"amount": fmt_money(invoice.refunded, cur)})
        if invoice.due:
            closing.append(_("Due: %(amount)s") % {"amount": fmt_money(invoice.due, cur)})
        story += [Paragraph(escape(text), body) for text in closing]
        out = io.BytesIO()
        SimpleDocTemplate(
            out,
            pagesize=A4,
            title=invoice.number,
            author="Clinicflow",
            leftMargin=18 * mm,
            rightMargin=18 * mm,
            topMargin=16 * mm,
            bottomMargin=16 * mm,
        ).build(story)
        return out.getvalue()
