"""Cleaning one mapped row of each kind into the values it will be stored with (nothing is written)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator, validate_email
from django.utils import timezone

from clinicflow.booking.models import AppointmentStatus, PaymentKind, PaymentMethod
from clinicflow.core.models import Branch, Organization
from clinicflow.core.phones import InvalidPhone, normalize
from clinicflow.imports.engine import phones
from clinicflow.imports.engine import values as v
from clinicflow.imports.files import cell_text
from clinicflow.patients.models import Sex

RowProblem = v.RowProblem

SEXES = {
    "f": Sex.FEMALE,
    "female": Sex.FEMALE,
    "ж": Sex.FEMALE,
    "жен": Sex.FEMALE,
    "женский": Sex.FEMALE,
    "女": Sex.FEMALE,
    "m": Sex.MALE,
    "male": Sex.MALE,
    "м": Sex.MALE,
    "муж": Sex.MALE,
    "мужской": Sex.MALE,
    "男": Sex.MALE,
    "u": Sex.UNKNOWN,
    "unknown": Sex.UNKNOWN,
}
STATUSES = {
    "done": AppointmentStatus.DONE,
    "completed": AppointmentStatus.DONE,
    "visited": AppointmentStatus.DONE,
    "пришел": AppointmentStatus.DONE,
    "пришёл": AppointmentStatus.DONE,
    "завершен": AppointmentStatus.DONE,
    "已完成": AppointmentStatus.DONE,
    "booked": AppointmentStatus.BOOKED,
    "ожидание": AppointmentStatus.BOOKED,
    "записан": AppointmentStatus.BOOKED,
    "confirmed": AppointmentStatus.CONFIRMED,
    "подтвердил": AppointmentStatus.CONFIRMED,
    "no_show": AppointmentStatus.NO_SHOW,
    "no-show": AppointmentStatus.NO_SHOW,
    "не пришел": AppointmentStatus.NO_SHOW,
    "cancelled": AppointmentStatus.CANCELLED,
    "canceled": AppointmentStatus.CANCELLED,
    "отменен": AppointmentStatus.CANCELLED,
    "отменён": AppointmentStatus.CANCELLED,
    "已取消": AppointmentStatus.CANCELLED,
}
METHODS = {m.value: m.value for m in PaymentMethod} | {
    "наличные": PaymentMethod.CASH,
    "карта": PaymentMethod.CARD,
    "безнал": PaymentMethod.TRANSFER,
    "现金": PaymentMethod.CASH,
    "银行卡": PaymentMethod.CARD,
}
KINDS = {
    "payment": PaymentKind.PAYMENT,
    "refund": PaymentKind.REFUND,
    "оплата": PaymentKind.PAYMENT,
    "возврат": PaymentKind.REFUND,
    "退款": PaymentKind.REFUND,
}


@dataclass
class Ctx:
    """What every row of a job is read against: the organisation, the branch (zone, currency, country)."""

    org: Organization
    branch: Branch
    source: str
    kind: str
    now: dt.datetime = field(default_factory=timezone.now)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return self.branch.tz

    @property
    def currency(self) -> str:
        return self.branch.currency

    @property
    def region(self) -> str:
        return self.branch.country or self.org.country


@dataclass
class Clean:
    """A row ready to write: its line, source id and values (per kind)."""

    line: int
    source_id: str
    values: dict[str, Any]
    # patients: the blind indexes of the phones and the e-mail, when the reader computed them
    keys: list[str] | None = None
    mail_key: str | None = None
    # patients: the stored (sealed) forms of the phones and the e-mail, when the reader made them
    sealed_phones: list[str] | None = None
    sealed_mail: str | None = None


def source_id_of(row: Mapping[str, Any]) -> str:
    """The row's id in the source, or (no id column) a digest of its mapped cells: the same row of the
    same file always gets the same id."""
    given = cell_text(row.get("source_id"))
    if given:
        if len(given) > 100:
            raise RowProblem("source_id", "is longer than 100 characters", given)
        return given
    payload = json.dumps({k: cell_text(x) for k, x in sorted(row.items())}, ensure_ascii=False)
    return "sha:" + hashlib.sha256(payload.encode()).hexdigest()[:40]


_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Django's own patterns, compiled here: its validator reaches them through lazy objects and builds a
# translated message per call (two thirds of a patient row's cleaning)
_EMAIL_USER = re.compile(EmailValidator.user_regex.pattern, EmailValidator.user_regex.flags)
_EMAIL_DOMAIN = re.compile(EmailValidator.domain_regex.pattern, EmailValidator.domain_regex.flags)


def email_fast(value: str) -> bool:
    """True when ``validate_email`` accepts ``value`` by its two regular expressions (its first path);
    False means "ask ``validate_email``" (an allowlisted domain, an address literal, an IDN, or not
    an address), never "invalid"."""
    if len(value) > 320 or "@" not in value:
        return False
    user, domain = value.rsplit("@", 1)
    return bool(_EMAIL_USER.match(user) and _EMAIL_DOMAIN.match(domain))


def e164_fast(text: str) -> str | None:
    """A number already written in E.164 (``+79161234567``), checked against the same metadata as
    ``normalize`` but without its general parser (a third of its time: the hot path of a large file);
    None when the fast check does not apply (another format, a national part starting with 0) or the
    number is not valid — the caller then goes through ``normalize`` for the result and the reason."""
    if not _E164.match(text):
        return None
    digits = text[1:]
    for width in (1, 2, 3):
        code = int(digits[:width])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            national = digits[width:]
            if national.startswith("0"):
                return None
            return text if phones.is_valid(code, national) else None
    return None


def _phone(name: str, raw: Any, ctx: Ctx) -> str:
    text = cell_text(raw)
    if not text:
        return ""
    fast = e164_fast(text)
    if fast is not None:
        return fast
    try:
        return normalize(text, ctx.region)
    except InvalidPhone as exc:
        raise RowProblem(name, str(exc), raw) from exc


def _currency(row: Mapping[str, Any], ctx: Ctx) -> None:
    given = cell_text(row.get("currency")).upper()
    if given and given != ctx.currency:
        raise RowProblem("currency", f"is {given}, the branch's currency is {ctx.currency}", given)


def clean_patient(row: Mapping[str, Any], ctx: Ctx) -> dict[str, Any]:
    last = v.text("last_name", row.get("last_name"), max_len=100)
    first = v.text("first_name", row.get("first_name"), max_len=100)
    middle = v.text("middle_name", row.get("middle_name"), max_len=100)
    full = v.text("full_name", row.get("full_name"), max_len=300)
    if full and not (last or first):
        parts = full.split()
        last, first, middle = parts[0], " ".join(parts[1:2]), " ".join(parts[2:])
        if len(parts) == 1:
            first = ""
        if max(len(last), len(first), len(middle)) > 100:
            raise RowProblem("full_name", "has a part longer than 100 characters", full)
    if not last:
        raise RowProblem("last_name" if "last_name" in row else "full_name", "is required")
    if not first and "first_name" in row:
        raise RowProblem("first_name", "is required")
    email = v.text("email", row.get("email"), max_len=254).lower()
    if email and not email_fast(email):
        try:
            validate_email(email)
        except DjangoValidationError as exc:
            raise RowProblem("email", "is not a valid e-mail address", email) from exc
    birth = v.date("birth_date", row.get("birth_date"), required=False)
    if birth is not None and (birth > ctx.now.date() or birth.year < 1900):
        raise RowProblem("birth_date", "is in the future or before 1900", row.get("birth_date"))
    phones = [
        p for p in (_phone("phone", row.get("phone"), ctx), _phone("phone2", row.get("phone2"), ctx)) if p
    ]
    return {
        "last_name": last,
        "first_name": first,
        "middle_name": middle,
        "sex": v.choice("sex", row.get("sex"), SEXES, Sex.UNKNOWN),
        "birth_date": birth,
        "email": email,
        "notes": v.text("notes", row.get("notes"), max_len=4000),
        "phones": list(dict.fromkeys(phones)),
    }


def _patient_ref(row: Mapping[str, Any], ctx: Ctx) -> dict[str, str]:
    ref = {
        "patient_id": cell_text(row.get("patient_id"))[:100],
        "patient_phone": _phone("patient_phone", row.get("patient_phone"), ctx),
    }
    if not ref["patient_id"] and not ref["patient_phone"]:
        raise RowProblem("patient_id" if "patient_id" in row else "patient_phone", "is required")
    return ref


def clean_visit(row: Mapping[str, Any], ctx: Ctx) -> dict[str, Any]:
    start = v.moment("date", row.get("date"), ctx.tz, row.get("time"))
    duration = v.integer("duration", row.get("duration"), default=0)
    if duration > 24 * 60:
        raise RowProblem("duration", "is longer than a day", row.get("duration"))
    default_status = AppointmentStatus.DONE if start < ctx.now else AppointmentStatus.BOOKED
    return {
        **_patient_ref(row, ctx),
        "start_at": start,
        "duration": duration,
        "service": v.text("service", row.get("service"), max_len=200, required=True),
        "doctor": v.text("doctor", row.get("doctor"), max_len=200, required=True),
        "price": v.decimal("price", row.get("price"), required=False),
        "status": v.choice("status", row.get("status"), STATUSES, default_status),
        "notes": v.text("notes", row.get("notes"), max_len=500),
    }


def clean_payment(row: Mapping[str, Any], ctx: Ctx) -> dict[str, Any]:
    _currency(row, ctx)
    amount = v.decimal("amount", row.get("amount"))
    assert amount is not None
    kind = v.choice("kind", row.get("kind"), KINDS, PaymentKind.REFUND if amount < 0 else PaymentKind.PAYMENT)
    if amount == 0:
        raise RowProblem("amount", "must not be zero", row.get("amount"))
    return {
        **_patient_ref(row, ctx),
        "visit_id": cell_text(row.get("visit_id"))[:100],
        "paid_at": v.moment("date", row.get("date"), ctx.tz, row.get("time")),
        "amount": abs(amount),
        "kind": kind,
        "method": v.choice("method", row.get("method"), METHODS, PaymentMethod.CASH),
        "note": v.text("note", row.get("note"), max_len=300),
    }


def clean_spend(row: Mapping[str, Any], ctx: Ctx) -> dict[str, Any]:
    _currency(row, ctx)
    spend = v.decimal("spend", row.get("spend"))
    assert spend is not None
    if spend < 0:
        raise RowProblem("spend", "must not be negative", row.get("spend"))
    return {
        "date": v.date("date", row.get("date")),
        "channel": v.text("channel", row.get("channel"), max_len=100, required=True),
        "campaign": v.text("campaign", row.get("campaign"), max_len=200),
        "spend": spend,
        "impressions": v.integer("impressions", row.get("impressions")),
        "clicks": v.integer("clicks", row.get("clicks")),
    }


CLEANERS: dict[str, Callable[[Mapping[str, Any], Ctx], dict[str, Any]]] = {
    "patients": clean_patient,
    "visits": clean_visit,
    "payments": clean_payment,
    "ad_spend": clean_spend,
}


def clean_row(line: int, row: Mapping[str, Any], ctx: Ctx) -> Clean:
    return Clean(line=line, source_id=source_id_of(row), values=CLEANERS[ctx.kind](row, ctx))


def money_text(amount: Decimal | None, currency: str) -> str:
    return "" if amount is None else f"{amount} {currency}"
