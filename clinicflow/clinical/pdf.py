"""Printable documents of the clinical records (quotes, signed consents) as PDF, in the patient's
language, with reportlab.

Latin and Cyrillic text is set in DejaVu Sans, embedded from ``clinical/fonts`` (served by nothing:
read only here); Chinese in reportlab's built-in CID font STSong-Light (Adobe's Asian font pack,
which every PDF reader carries), so no CJK font file ships with the project. The text stays
extractable (``pypdf``), which the consent tests use to compare the signed text with its hash.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONTS = Path(__file__).resolve().parent / "fonts"
CJK = "STSong-Light"


@lru_cache(maxsize=1)
def _register() -> None:
    pdfmetrics.registerFont(TTFont("DejaVuSans", str(FONTS / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(FONTS / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFont(UnicodeCIDFont(CJK))


def fonts_for(language: str) -> tuple[str, str]:
    """(regular, bold) font names for a language code (``en``, ``ru``, ``zh-hans``)."""
    _register()
    if language.lower().startswith("zh"):
        return CJK, CJK
    return "DejaVuSans", "DejaVuSans-Bold"


@dataclass
class Document:
    """A simple document: a title, lines under it (clinic, patient, date), paragraphs, an optional
    table (the first row is the header; cells are plain text) and closing paragraphs."""

    title: str
    language: str
    subtitle_lines: Sequence[str] = ()
    paragraphs: Sequence[str] = ()
    table: Sequence[Sequence[str]] = ()
    numeric_columns: Sequence[int] = ()  # right-aligned columns of the table
    closing: Sequence[str] = ()
    author: str = "Clinicflow"
    extra: list[Flowable] = field(default_factory=list)


def render(doc: Document) -> bytes:
    """The PDF bytes of ``doc``. Every text is escaped: nothing a user typed is read as markup."""
    regular, bold = fonts_for(doc.language)
    body = ParagraphStyle("body", fontName=regular, fontSize=10, leading=14)
    small = ParagraphStyle("small", parent=body, fontSize=9, leading=12, textColor=colors.HexColor("#444444"))
    head = ParagraphStyle("head", parent=body, fontName=bold, fontSize=16, leading=20, spaceAfter=6)
    story: list[Flowable] = [Paragraph(escape(doc.title), head)]
    story += [Paragraph(escape(line), small) for line in doc.subtitle_lines]
    story.append(Spacer(1, 4 * mm))
    for text in doc.paragraphs:
        story += [Paragraph(escape(text).replace("\n", "<br/>"), body), Spacer(1, 2 * mm)]
    if doc.table:
        rows = [[Paragraph(escape(str(c)), body) for c in row] for row in doc.table]
        table = Table(rows, repeatRows=1, hAlign="LEFT")
        style = [
            ("FONTNAME", (0, 0), (-1, -1), regular),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5")),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c8ced6")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
        style += [("ALIGN", (c, 0), (c, -1), "RIGHT") for c in doc.numeric_columns]
        table.setStyle(TableStyle(style))
        story += [table, Spacer(1, 4 * mm)]
    story += [Paragraph(escape(text).replace("\n", "<br/>"), body) for text in doc.closing]
    story += doc.extra
    out = io.BytesIO()
    SimpleDocTemplate(
        out,
        pagesize=A4,
        title=doc.title,
        author=doc.author,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
    ).build(story)
    return out.getvalue()
