"""Forms of the calendar, the free-slot search and an appointment's actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from clinicflow.booking.forms.base import DATE_MESSAGES, LocalDateTimeField, WeekdaysField

PARTS_OF_DAY = {
    "morning": (None, dt.time(12)),
    "afternoon": (dt.time(12), dt.time(17)),
    "evening": (dt.time(17), None),
}


class CalendarForm(forms.Form):
    """The calendar's date, day or week, columns by doctor or room; anything odd falls back to the
    default (today, day, by doctor)."""

    date = forms.DateField(required=False)
    view = forms.ChoiceField(choices=[("day", "day"), ("week", "week")], required=False)
    by = forms.ChoiceField(choices=[("doctor", "doctor"), ("room", "room")], required=False)

    def values(self, today: dt.date) -> tuple[dt.date, str, str]:
        self.is_valid()
        data = self.cleaned_data
        return data.get("date") or today, data.get("view") or "day", data.get("by") or "doctor"


class SlotSearchForm(forms.Form):
    """The free-slot search: a service, any or one doctor, from a date (14 days, at most 62), some
    weekdays and a part of the day, for a patient."""

    service = forms.CharField(required=False)
    doctor = forms.CharField(required=False)
    to = forms.DateField(required=False, error_messages=DATE_MESSAGES)
    weekday = WeekdaysField(required=False)
    part = forms.CharField(required=False)
    patient = forms.CharField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = forms.DateField(required=False, error_messages=DATE_MESSAGES)

    def period(self, today: dt.date) -> tuple[dt.date, dt.date]:
        d0 = self.cleaned_data.get("from") or today
        d1 = self.cleaned_data.get("to") or d0 + dt.timedelta(days=13)
        return d0, min(d1, d0 + dt.timedelta(days=61))

    def times(self) -> tuple[dt.time | None, dt.time | None]:
        return PARTS_OF_DAY.get(self.cleaned_data.get("part") or "", (None, None))


class PatientPickForm(forms.Form):
    q = forms.CharField(required=False)
    next = forms.CharField(required=False)

    def clean_q(self) -> str:
        return str(self.cleaned_data.get("q") or "")[:100]


class BookForm(forms.Form):
    """A slot booked from the search or the waitlist (the start on the branch's clock)."""

    patient = forms.CharField(required=False)
    service = forms.CharField(required=False)
    doctor = forms.CharField(required=False)
    start = LocalDateTimeField()
    notes = forms.CharField(required=False, strip=False)
    waitlist = forms.CharField(required=False)


class MoveForm(forms.Form):
    start = LocalDateTimeField()
    doctor = forms.CharField(required=False)


class CancelForm(forms.Form):
    reason = forms.CharField(required=False, strip=False)


class MarkForm(forms.Form):
    status = forms.CharField(required=False)


class PaymentForm(forms.Form):
    amount = forms.CharField(required=False)
    method = forms.CharField(required=False)
    kind = forms.CharField(required=False)

    def clean_kind(self) -> str:
        return str(self.cleaned_data.get("kind") or "payment")
