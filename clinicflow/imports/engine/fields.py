"""The fields each kind of import takes, the header names that map to them, the mapping guess."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: Any
    required: bool = False
    synonyms: tuple[str, ...] = ()


def _id(*extra: str) -> FieldSpec:
    names = ("id", "source id", "external id", "ид", "код", "номер", "编号", *extra)
    return FieldSpec("source_id", _("Id in the source system"), False, names)


_PATIENT_REF = (
    FieldSpec(
        "patient_id",
        _("Patient's id in the source"),
        False,
        ("patient id", "client id", "id клиента", "id пациента", "客户编号", "患者编号"),
    ),
    FieldSpec(
        "patient_phone",
        _("Patient's phone"),
        False,
        ("patient phone", "client phone", "phone", "телефон", "телефон клиента", "电话", "手机"),
    ),
)

FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "patients": (
        _id("patient id", "client id", "id клиента", "id пациента"),
        FieldSpec("last_name", _("Last name"), False, ("last name", "surname", "фамилия", "姓")),
        FieldSpec("first_name", _("First name"), False, ("first name", "name", "имя", "名")),
        FieldSpec("middle_name", _("Middle name"), False, ("middle name", "patronymic", "отчество")),
        FieldSpec(
            "full_name", _("Full name"), False, ("full name", "fio", "фио", "клиент", "пациент", "姓名")
        ),
        FieldSpec("sex", _("Sex"), False, ("sex", "gender", "пол", "性别")),
        FieldSpec(
            "birth_date",
            _("Birth date"),
            False,
            ("birth date", "birthday", "date of birth", "дата рождения", "出生日期"),
        ),
        FieldSpec("phone", _("Phone"), False, ("phone", "mobile", "телефон", "мобильный", "电话", "手机")),
        FieldSpec(
            "phone2", _("Second phone"), False, ("phone 2", "second phone", "телефон 2", "доп телефон")
        ),
        FieldSpec("email", _("E-mail"), False, ("email", "e mail", "почта", "электронная почта", "邮箱")),
        FieldSpec("notes", _("Notes"), False, ("notes", "comment", "комментарий", "примечание", "备注")),
    ),
    "visits": (
        _id("visit id", "record id", "appointment id", "id визита", "id записи"),
        *_PATIENT_REF,
        FieldSpec("date", _("Date"), True, ("date", "visit date", "дата", "дата визита", "日期")),
        FieldSpec("time", _("Time"), False, ("time", "start", "время", "начало", "时间")),
        FieldSpec("duration", _("Duration, minutes"), False, ("duration", "длительность", "时长")),
        FieldSpec("service", _("Service"), True, ("service", "услуга", "服务", "项目")),
        FieldSpec(
            "doctor", _("Doctor"), True, ("doctor", "staff", "master", "врач", "сотрудник", "мастер", "医生")
        ),
        FieldSpec(
            "price", _("Price"), False, ("price", "cost", "amount", "цена", "стоимость", "сумма", "价格")
        ),
        FieldSpec("status", _("Status"), False, ("status", "статус", "状态")),
        FieldSpec("notes", _("Notes"), False, ("notes", "comment", "комментарий", "备注")),
    ),
    "payments": (
        _id("payment id", "id оплаты", "id платежа"),
        *_PATIENT_REF,
        FieldSpec(
            "visit_id",
            _("Visit's id in the source"),
            False,
            ("visit id", "record id", "id визита", "id записи"),
        ),
        FieldSpec("date", _("Date"), True, ("date", "paid at", "дата", "дата оплаты", "日期")),
        FieldSpec("time", _("Time"), False, ("time", "время", "时间")),
        FieldSpec("amount", _("Amount"), True, ("amount", "sum", "paid", "сумма", "оплачено", "金额")),
        FieldSpec("currency", _("Currency"), False, ("currency", "валюта", "货币")),
        FieldSpec("method", _("Method"), False, ("method", "payment method", "способ оплаты", "支付方式")),
        FieldSpec("kind", _("Payment or refund"), False, ("kind", "type", "тип", "类型")),
        FieldSpec("note", _("Note"), False, ("note", "comment", "комментарий", "备注")),
    ),
    "ad_spend": (
        _id(),
        FieldSpec("date", _("Date"), True, ("date", "day", "дата", "день", "日期")),
        FieldSpec("channel", _("Channel"), True, ("channel", "source", "канал", "источник", "渠道")),
        FieldSpec("campaign", _("Campaign"), False, ("campaign", "кампания", "广告系列")),
        FieldSpec("spend", _("Spend"), True, ("spend", "cost", "расход", "расходы", "затраты", "花费")),
        FieldSpec("currency", _("Currency"), False, ("currency", "валюта", "货币")),
        FieldSpec("impressions", _("Impressions"), False, ("impressions", "показы", "展示")),
        FieldSpec("clicks", _("Clicks"), False, ("clicks", "клики", "点击")),
    ),
}


def norm(text: str) -> str:
    return re.sub(r"[^\w ]+", " ", text.lower().replace("ё", "е")).strip()


def field_names(kind: str) -> list[str]:
    return [f.name for f in FIELDS[kind]]


def guess_mapping(kind: str, headers: Sequence[str]) -> dict[str, str]:
    """Field → header: a header equal to the field's name or a synonym (English, Russian, Chinese)."""
    normed = {norm(h): h for h in headers if h}
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for spec in FIELDS[kind]:
        for candidate in (norm(spec.name.replace("_", " ")), *(norm(s) for s in spec.synonyms)):
            header = normed.get(candidate)
            if header is not None and header not in used:
                mapping[spec.name] = header
                used.add(header)
                break
    return mapping


def check_mapping(kind: str, columns: Mapping[str, str], headers: Sequence[str]) -> list[str]:
    """Problems of a mapping against a file's headers (unknown fields, missing columns, required
    fields without a column)."""
    problems: list[str] = []
    names = set(field_names(kind))
    for name, header in columns.items():
        if name not in names:
            problems.append(f"unknown field {name!r}")
        elif header not in headers:
            problems.append(f"{name}: the file has no column {header!r}")
    for spec in FIELDS[kind]:
        if spec.required and spec.name not in columns:
            problems.append(f"{spec.name}: no column is mapped to this required field")
    if kind == "patients" and "full_name" not in columns and not {"last_name", "first_name"} <= set(columns):
        problems.append("last_name: map the last and first names, or the full name")
    if kind in ("visits", "payments") and not {"patient_id", "patient_phone"} & set(columns):
        problems.append("patient_id: map the patient's id in the source or the patient's phone")
    return problems
