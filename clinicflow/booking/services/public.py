"""The public booking page's writes: a code requested, a code verified and the booking made, a
patient's cancel or move by their manage link.

A code goes to the address the visitor typed; the patient is matched or created only once the code
is verified. Codes are derived from the pending row's random id and the secret key (never stored
readable, also not in the outbox), expire after 10 minutes and allow 5 attempts; code requests are
rate limited per destination, per IP address and per organisation, slot searches per IP address
and per organisation, with counters in the shared cache (``core.ratelimit``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings as dj_settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinicflow.booking import selectors
from clinicflow.booking.models import (
    Appointment,
    AppointmentSource,
    AppointmentStatus,
    BookingCode,
    BookingSettings,
    CodeChannel,
    Doctor,
)
from clinicflow.booking.services.appointments import (
    CHANGEABLE,
    appointment_book,
    appointment_cancel,
    appointment_move,
)
from clinicflow.catalogue.models import Service
from clinicflow.core import ratelimit
from clinicflow.core.errors import Conflict, DomainError, ValidationFailed
from clinicflow.core.models import Branch, Organization
from clinicflow.core.onetime import one_time_code
from clinicflow.messaging.services import message_enqueue_code
from clinicflow.patients import selectors as patient_selectors
from clinicflow.patients.models import LANGUAGE_CHOICES, Patient, Source
from clinicflow.patients.services import PatientData, patient_create

CODE_TTL = dt.timedelta(minutes=10)
CODE_ATTEMPTS = 5
PER_DESTINATION = (3, dt.timedelta(minutes=15))
PER_IP = (10, dt.timedelta(hours=1))
PER_ORG = (200, dt.timedelta(hours=1))
PER_IP_SEARCH = (60, dt.timedelta(minutes=1))
PER_ORG_SEARCH = (1200, dt.timedelta(minutes=1))
START_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
PATIENT_CANCEL_REASON = "Cancelled by the patient online"


class TooManyCodes(DomainError):
    status = 429
    code = "rate_limited"


class CodeExpired(DomainError):
    """Used, expired or out of attempts: the patient starts again."""

    status = 410
    code = "code_expired"


class WrongCode(ValidationFailed):
    def __init__(self, attempts_left: int) -> None:
        super().__init__("code: not right", fields={"code": ["not right"]})
        self.attempts_left = attempts_left


class TooLateToChange(Conflict):
    """The branch's cut-off for patients' own changes has passed (or the visit is not open)."""


def code_hash(code_id: object, code: str) -> str:
    key = dj_settings.SECRET_KEY.encode()
    return hmac.new(key, f"{code_id}:{code}".encode(), hashlib.sha256).hexdigest()


def patient_language(page_language: str | None) -> str:
    """The patient's preferred language from the page's (``zh-*`` is Simplified Chinese)."""
    lang = page_language or "en"
    codes = [c for c, _n in LANGUAGE_CHOICES]
    if lang in codes:
        return lang
    if lang.startswith("zh"):
        return "zh-hans"
    return lang[:2] if lang[:2] in codes else "en"


def format_start(start: dt.datetime) -> str:
    return start.astimezone(dt.UTC).strftime(START_FORMAT)


def parse_start(value: str) -> dt.datetime:
    """A public page's start time (UTC, ``YYYY-MM-DDTHH:MM:SSZ``); a 422 naming ``start`` otherwise."""
    try:
        return dt.datetime.strptime(value, START_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError as exc:
        raise ValidationFailed.field("start", "unknown time") from exc


@dataclass(frozen=True)
class PublicSlot:
    """The slot a patient chose: a service bookable online, a doctor and a start far enough ahead."""

    service: Service
    doctor: Doctor
    start: dt.datetime


def public_slot_check(
    *, org: Organization, branch: Branch, service_id: object, doctor_id: object, start: dt.datetime
) -> PublicSlot:
    """The chosen slot, checked: ``NotFound`` for an unknown service or doctor, a 422 for a service not
    bookable online or a start inside the branch's online cut-off."""
    service = selectors.service_get(org=org, service_id=service_id)
    if not service.is_bookable_online:
        raise ValidationFailed.field("service", "cannot be booked online")
    doctor = selectors.doctor_get(org=org, doctor_id=doctor_id)
    conf = selectors.settings_for(org=org, branch=branch)
    if start < timezone.now() + dt.timedelta(hours=conf.online_booking_cutoff_hours):
        raise ValidationFailed.field("start", "is too soon to book online; please call us")
    return PublicSlot(service=service, doctor=doctor, start=start)


@dataclass(frozen=True)
class Contact:
    """Who books (validated by the page's form): names, an E.164 phone and/or an e-mail, and the
    channel the code goes by."""

    first_name: str
    last_name: str
    phone: str
    email: str
    channel: str

    @property
    def destination(self) -> str:
        return self.phone if self.channel == CodeChannel.SMS else self.email


def _limit_key(kind: str, value: str) -> str:
    """A counter's key: the kind and a keyed hash of the value (no phone or e-mail in the store)."""
    digest = hmac.new(dj_settings.SECRET_KEY.encode(), f"{kind}:{value}".encode(), hashlib.sha256)
    return f"book:{kind}:{digest.hexdigest()[:32]}"


def _rate_limited(org: Organization, destination: str, ip: str | None) -> bool:
    """Counts this request against every limit (per destination, per IP, per organisation) in the
    shared store; True when any of them is exceeded."""
    limits = [("dest", f"{org.pk}:{destination}", PER_DESTINATION), ("org", str(org.pk), PER_ORG)]
    if ip:
        limits.append(("ip", ip, PER_IP))
    over = [
        not ratelimit.hit(_limit_key(kind, value), n, int(w.total_seconds()))
        for kind, value, (n, w) in limits
    ]
    return any(over)


def slot_search_throttled(*, org: Organization, ip: str | None) -> bool:
    """The public slot searches (the booking page and a manage link's "move"): True when this IP
    address (``PER_IP_SEARCH``) or all visitors of the organisation (``PER_ORG_SEARCH``) searched too
    often in the window. Both counters count every search, in the shared store."""
    limits = [("search", ip or "-", PER_IP_SEARCH), ("search-org", str(org.pk), PER_ORG_SEARCH)]
    over = [
        not ratelimit.hit(_limit_key(kind, value), n, int(w.total_seconds()))
        for kind, value, (n, w) in limits
    ]
    return any(over)


def patient_find_or_create(*, org: Organization, branch: Branch, contact: Contact, language: str) -> Patient:
    """After the code was verified: match by the verified contact only (the E.164 phone when the code
    went by SMS, the e-mail otherwise); otherwise create (source: direct, language: the page's) with
    the verified contact alone — the other, unproven contact is not attached to anyone."""
    if contact.channel == CodeChannel.SMS:
        found = patient_selectors.patient_find_by_phone(org=org, e164=contact.phone)
    else:
        found = patient_selectors.patient_duplicates(org=org, phones=[], email=contact.email)
    if found:
        return found[0]
    sms = contact.channel == CodeChannel.SMS
    return patient_create(
        org=org,
        actor=None,
        data=PatientData(
            last_name=contact.last_name,
            first_name=contact.first_name,
            email="" if sms else contact.email,
            phones=[contact.phone] if sms else [],
            preferred_language=language,
            source=Source.DIRECT,
            branch=branch,
        ),
    )


def booking_code_request(
    *, org: Organization, branch: Branch, slot: PublicSlot, contact: Contact, ip: str | None, language: str
) -> BookingCode:
    """Send a 6-digit code to the address the visitor typed, to confirm the slot (``TooManyCodes``
    past the rate limits). Nothing but the pending code is stored: no patient is looked up or
    created and no slot is held until the code is verified (``public_booking_create``), so the
    answer is the same whether or not the contact belongs to a patient. The code is derived from the
    row's random id (``core.onetime``): neither the row nor the outbox stores it readable."""
    # counted outside the transaction (the database cache would roll a count back with it)
    if _rate_limited(org, contact.destination, ip):
        raise TooManyCodes("too many codes were requested")
    row = BookingCode(
        organization=org,
        branch=branch,
        channel=contact.channel,
        destination=contact.destination,
        ip=ip,
        expires_at=timezone.now() + CODE_TTL,
        payload={
            "service": str(slot.service.pk),
            "doctor": str(slot.doctor.pk),
            "start": format_start(slot.start),
            "language": language,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "phone": contact.phone,
            "email": contact.email,
        },
    )
    row.code_hash = code_hash(row.pk, one_time_code(str(row.pk)))
    with transaction.atomic():
        row.save(force_insert=True)
        message_enqueue_code(
            org=org,
            channel=contact.channel,
            to=contact.destination,
            language=language,
            code_ref=str(row.pk),
            context={"branch": branch.name},
            not_after=row.expires_at,
        )
    return row


def _code_attempt(*, org: Organization, row: BookingCode, code: str) -> BookingCode | int:
    """Spend one attempt on ``code`` under the row's lock, in the caller's transaction: the code row
    (now used) when it is right, the attempts left when it is not; ``CodeExpired`` when the code was
    used, expired or is out of attempts."""
    now = timezone.now()
    digits = "".join(ch for ch in code if ch.isdigit())[:6]
    locked: BookingCode = BookingCode.objects.for_org(org).select_for_update().get(pk=row.pk)
    if locked.used_at is not None or locked.expires_at < now or locked.attempts >= CODE_ATTEMPTS:
        raise CodeExpired("the code has expired")
    locked.attempts += 1
    right = hmac.compare_digest(locked.code_hash, code_hash(locked.pk, digits))
    if right:
        locked.used_at = now
    locked.save(update_fields=["attempts", "used_at"] if right else ["attempts"])
    return locked if right else CODE_ATTEMPTS - locked.attempts


def booking_code_verify(*, org: Organization, row: BookingCode, code: str) -> BookingCode:
    """Spend one attempt on ``code``: ``CodeExpired`` when the code was used, expired or is out of
    attempts, ``WrongCode`` (the attempt counted) when it is not right; the code is used otherwise."""
    with transaction.atomic():
        result = _code_attempt(org=org, row=row, code=code)
    # outside the block: a wrong attempt stays counted
    if isinstance(result, int):
        raise WrongCode(result)
    return result


def public_booking_create(
    *, org: Organization, branch: Branch, row: BookingCode, code: str, request: HttpRequest | None = None
) -> Appointment:
    """Verify the code, then book the pending slot (confirmed, source online) in the same
    transaction: the code is used only if the booking is stored (a slot taken meanwhile or a lost
    database leaves no new patient behind and the code unused). A wrong code's attempt is committed
    and stays counted. Raises the code's errors (``CodeExpired``, ``WrongCode``) or the booking's."""
    with transaction.atomic():
        result = _code_attempt(org=org, row=row, code=code)
        if not isinstance(result, int):
            return _book_verified(org=org, branch=branch, used=result, request=request)
    raise WrongCode(result)


def _book_verified(
    *, org: Organization, branch: Branch, used: BookingCode, request: HttpRequest | None
) -> Appointment:
    payload = used.payload
    contact = Contact(
        first_name=str(payload.get("first_name", "")),
        last_name=str(payload.get("last_name", "")),
        phone=str(payload.get("phone", "")),
        email=str(payload.get("email", "")),
        channel=used.channel,
    )
    language = str(payload.get("language") or "en")
    patient = patient_find_or_create(org=org, branch=branch, contact=contact, language=language)
    return appointment_book(
        org=org,
        actor=None,
        branch=branch,
        patient=patient,
        service=selectors.service_get(org=org, service_id=payload["service"]),
        doctor=selectors.doctor_get(org=org, doctor_id=payload["doctor"]),
        start=parse_start(payload["start"]),
        source=AppointmentSource.ONLINE,
        status=AppointmentStatus.CONFIRMED,
        request=request,
    )


def patient_may_change(appt: Appointment, conf: BookingSettings) -> bool:
    """Whether the patient may still cancel or move the appointment online (an open visit, before
    the branch's cut-off)."""
    ahead = appt.start_at - timezone.now()
    return appt.status in CHANGEABLE and ahead >= dt.timedelta(hours=conf.cancellation_cutoff_hours)


def _check_may_change(org: Organization, appt: Appointment) -> BookingSettings:
    conf = selectors.settings_for(org=org, branch=appt.branch)
    if not patient_may_change(appt, conf):
        raise TooLateToChange("it is too late to change this appointment online")
    return conf


def public_cancel(
    *, org: Organization, appointment: Appointment, reason: str, request: HttpRequest | None = None
) -> Appointment:
    """The patient cancels by their link (``TooLateToChange`` after the cut-off)."""
    _check_may_change(org, appointment)
    return appointment_cancel(
        org=org,
        actor=None,
        appointment=appointment,
        reason=reason.strip() or PATIENT_CANCEL_REASON,
        by_patient=True,
        request=request,
    )


def public_move(
    *,
    org: Organization,
    appointment: Appointment,
    start: dt.datetime | None,
    request: HttpRequest | None = None,
) -> Appointment:
    """The patient moves by their link to a start outside the online cut-off (``TooLateToChange``
    after the cancellation cut-off; a 422 for no start, i.e. not a time the page offered)."""
    conf = _check_may_change(org, appointment)
    if start is None:
        raise ValidationFailed.field("start", "unknown time")
    if start < timezone.now() + dt.timedelta(hours=conf.online_booking_cutoff_hours):
        raise ValidationFailed.field("start", "is too soon")
    return appointment_move(org=org, actor=None, appointment=appointment, start=start, request=request)
