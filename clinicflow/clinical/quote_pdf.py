"""The printable quote (PDF) in a given language, through ``clinical.pdf``."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import translation
from django.utils.translation import gettext as _

from clinicflow.clinical.models.consultations import Quote, QuoteLine
from clinicflow.clinical.pdf import Document, render
from clinicflow.core.formatting import fmt_date_full, fmt_decimal, fmt_money
from clinicflow.core.models import Organization


def line_label(line: QuoteLine) -> str:
    """What the line is: the service's name (in the active language) and the description."""
    name = line.service.display_name if line.service is not None else ""
    return " — ".join(p for p in (name, line.description) if p)


def discount_text(line: QuoteLine, currency: str) -> str:
    if line.discount_kind == "percent":
        return f"{fmt_decimal(line.discount_value, 2)} % ({line.discount_reason})"
    if line.discount_kind == "amount":
        return f"{fmt_money(line.discount_value, currency)} ({line.discount_reason})"
    return ""


def quote_document(*, org: Organization, quote: Quote, lines: Sequence[QuoteLine], language: str) -> Document:
    """The quote as a ``Document``; texts in ``language``."""
    with translation.override(language):
        currency = quote.currency
        table: list[list[str]] = [
            [_("Item"), _("Kind"), _("Quantity"), _("Unit price"), _("Discount"), _("Total")]
        ]
        for line in lines:
            table.append(
                [
                    line_label(line),
                    str(line.get_kind_display()),
                    fmt_decimal(
                        line.quantity, 0 if line.quantity == line.quantity.to_integral_value() else 2
                    ),
                    fmt_money(line.unit_price, currency),
                    discount_text(line, currency),
                    fmt_money(line.total, currency),
                ]
            )
        patient = quote.patient
        return Document(
            title=_("Quote"),
            language=language,
            subtitle_lines=[
                org.display_name,
                quote.branch.display_name,
                _("Patient: %(name)s") % {"name": patient.full_name},
                _("Doctor: %(name)s") % {"name": quote.doctor.full_name},
                _("Date: %(date)s") % {"date": fmt_date_full(quote.priced_on)},
            ],
            paragraphs=[quote.note] if quote.note else [],
            table=table,
            numeric_columns=(2, 3, 5),
            closing=[
                _("Total: %(total)s") % {"total": fmt_money(quote.total, currency)},
                _("Valid until %(date)s") % {"date": fmt_date_full(quote.valid_until)},
            ],
        )


def quote_pdf(*, org: Organization, quote: Quote, lines: Sequence[QuoteLine], language: str) -> bytes:
    return render(quote_document(org=org, quote=quote, lines=lines, language=language))
