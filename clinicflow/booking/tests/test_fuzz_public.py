"""Hypothesis fuzzing of the public booking inputs (SECURITY.md SC-01, IN-03): the forms of the booking
pages raise nothing but ``ValidationFailed`` (or report errors), and the pages a patient reaches
without an account — the branch page, details, code confirmation, the manage link and its calendar
file, and the doctors' iCal feed — never answer 5xx, whatever the query, form, ids or token.

Bounded for CI (200 examples for the forms, fewer through the database; derandomised under ``CI``)."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
from django.test import Client
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from clinicflow.booking.forms.public import (
    BranchPageForm,
    CodeForm,
    DetailsForm,
    PatientCancelForm,
    PatientMoveForm,
    SlotForm,
)
from clinicflow.booking.links import manage_token
from clinicflow.booking.models import Appointment, BookingCode
from clinicflow.booking.services.public import parse_start
from clinicflow.booking.tests.conftest import Clinic
from clinicflow.booking.tests.factories import local, next_weekday
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.onetime import one_time_code

FUZZ = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "200")),
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FUZZ_DB = settings(FUZZ, max_examples=max(20, FUZZ.max_examples // 4))

FORM_FIELDS = ["service", "doctor", "date", "start", "first_name", "last_name", "phone", "email"]
FORM_FIELDS += ["channel", "code", "reason", "move"]
VALUES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["sms", "email", "2030-01-01", "2030-13-45", "2030-01-01T10:00:00Z", "+79161234567"]),
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),
    st.integers().map(str),
)
FORM_DATA = st.dictionaries(
    st.sampled_from(FORM_FIELDS), st.lists(VALUES, min_size=1, max_size=2), max_size=8
)
# URL path parts as the resolver hands them over (``<str:...>``: anything but "/")
PATH_PART = st.one_of(
    st.uuids().map(str),
    st.text(
        alphabet=st.characters(exclude_characters="/?#%", exclude_categories=["Cs", "Cc"]),
        min_size=1,
        max_size=70,
    ),
)


def _data(fields: dict[str, list[str]]) -> MultiValueDict[str, str]:
    return MultiValueDict(fields)


# --- forms ------------------------------------------------------------------------------------------------


@FUZZ
@given(value=st.one_of(VALUES, st.text(max_size=30)))
@example(value="2030-01-01T10:00:00Z")
def test_parse_start_gives_an_aware_time_or_a_validation_failed_naming_start(value: str) -> None:
    try:
        start = parse_start(value)
    except ValidationFailed as exc:
        assert list(exc.fields) == ["start"]
    else:
        assert start.tzinfo is dt.UTC


@FUZZ
@given(fields=FORM_DATA, country=st.sampled_from(["RU", "CN", "DE", "ZZ", ""]))
def test_the_public_forms_raise_only_validation_failed(fields: dict[str, list[str]], country: str) -> None:
    data = _data(fields)
    service, doctor, day = BranchPageForm(data).values()
    assert isinstance(service, str) and isinstance(doctor, str)
    assert day is None or isinstance(day, dt.date)
    try:
        SlotForm(data).slot()
    except ValidationFailed as exc:
        assert exc.fields
    details = DetailsForm(data, country=country)
    if details.is_valid():
        contact = details.contact()
        assert contact.phone or contact.email
    else:
        assert all(isinstance(m, str) for m in details.messages().values())
    start = PatientMoveForm(data).start_at()
    assert start is None or start.tzinfo is dt.UTC
    CodeForm(data).is_valid()
    PatientCancelForm(data).is_valid()


# --- pages ------------------------------------------------------------------------------------------------


def _slot_start(c: Clinic) -> str:
    return local(c.branch, next_weekday(0), 10).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def code_row(clinic: Clinic) -> BookingCode:
    """A booking code waiting for confirmation (the details step done once, properly)."""
    response = Client().post(
        f"/book/{clinic.branch.pk}/details/",
        {
            "service": str(clinic.laser.pk),
            "doctor": str(clinic.doctor.pk),
            "start": _slot_start(clinic),
            "first_name": "Maria",
            "last_name": "Kuznetsova",
            "phone": "8 916 555-44-33",
            "channel": "sms",
        },
    )
    assert response.status_code == 302, response.content[:300]
    return BookingCode.objects.get()


def _ok(response: Any) -> None:
    assert response.status_code < 500, response.content[:300]


@pytest.mark.django_db
@FUZZ_DB
@given(fields=FORM_DATA, post=st.booleans(), real_slot=st.booleans())
def test_the_branch_and_details_pages_never_answer_5xx(
    clinic: Clinic, fields: dict[str, list[str]], post: bool, real_slot: bool
) -> None:
    if real_slot:  # reach the details form itself, with the fuzzed contact fields
        fields = {
            **fields,
            "service": [str(clinic.laser.pk)],
            "doctor": [str(clinic.doctor.pk)],
            "start": [_slot_start(clinic)],
        }
    client = Client(REMOTE_ADDR="10.9.8.7")
    _ok(client.get(f"/book/{clinic.branch.pk}/", fields))
    url = f"/book/{clinic.branch.pk}/details/"
    _ok(client.post(url, fields) if post else client.get(url, fields))


@pytest.mark.django_db
@FUZZ_DB
@given(fields=FORM_DATA, code_id=st.one_of(st.none(), PATH_PART))
@example(fields={"code": ["\x00"]}, code_id=None)  # a NUL in the code: cleaned() raised ValidationFailed
def test_the_code_confirmation_never_answers_5xx(
    clinic: Clinic, code_row: BookingCode, fields: dict[str, list[str]], code_id: str | None
) -> None:
    url = f"/book/{clinic.branch.pk}/confirm/{code_id or code_row.pk}/"
    _ok(Client().get(url))
    _ok(Client().post(url, fields))


@pytest.mark.django_db
@FUZZ_DB
@given(
    appointment_id=PATH_PART,
    token=PATH_PART,
    action=st.sampled_from(["", "cancel/", "move/", "appointment.ics", "?move=1"]),
    fields=FORM_DATA,
)
def test_manage_links_with_any_id_or_token_never_answer_5xx(
    clinic: Clinic, appointment_id: str, token: str, action: str, fields: dict[str, list[str]]
) -> None:
    url = f"/book/manage/{appointment_id}/{token}/{action}"
    client = Client()
    _ok(client.post(url, fields) if action in ("cancel/", "move/") else client.get(url))


@pytest.mark.django_db
@FUZZ_DB
@given(action=st.sampled_from(["", "?move=1", "appointment.ics", "cancel/", "move/"]), fields=FORM_DATA)
@example(action="cancel/", fields={"reason": ["\x00"]})  # a NUL in the reason: cleaned() raised before
def test_a_real_manage_link_with_any_form_never_answers_5xx(
    clinic: Clinic, code_row: BookingCode, action: str, fields: dict[str, list[str]]
) -> None:
    if not Appointment.objects.exists():
        confirmed = Client().post(
            f"/book/{clinic.branch.pk}/confirm/{code_row.pk}/", {"code": one_time_code(str(code_row.pk))}
        )
        assert confirmed.status_code == 302
    appt = Appointment.objects.get()
    url = f"/book/manage/{appt.pk}/{manage_token(appt)}/{action}"
    client = Client(REMOTE_ADDR="10.9.8.6")
    _ok(client.post(url, fields) if action in ("cancel/", "move/") else client.get(url))


@pytest.mark.django_db
@FUZZ_DB
@given(token=PATH_PART)
@example(token="a" * 20)
def test_the_ical_feed_token_never_answers_5xx(clinic: Clinic, token: str) -> None:
    response = Client().get(f"/booking/ical/{token}.ics")
    assert response.status_code == 404
