"""The clinical PDFs carry their text in every language, extractable, and never read input as markup."""

from __future__ import annotations

import io

from pypdf import PdfReader

from clinicflow.clinical.pdf import Document, render


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_russian_and_english_text_is_embedded_and_extractable() -> None:
    pdf = render(
        Document(
            title="Смета лечения",
            language="ru",
            paragraphs=["Пациент: Иванова Анна <b>not bold</b>"],
            table=[["Услуга", "Сумма"], ["Ботулинотерапия", "18 000,00 ₽"]],
            numeric_columns=[1],
        )
    )
    assert pdf.startswith(b"%PDF")
    text = _text(pdf)
    assert "Смета лечения" in text and "Ботулинотерапия" in text and "<b>not bold</b>" in text


def test_chinese_text_uses_the_cid_font() -> None:
    pdf = render(Document(title="治疗报价", language="zh-hans", paragraphs=["患者：王芳"]))
    assert b"STSong-Light" in pdf
    assert "治疗报价" in _text(pdf)
