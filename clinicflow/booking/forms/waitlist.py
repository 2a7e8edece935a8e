"""The waitlist's form."""

from __future__ import annotations

from django import forms

from clinicflow.booking.forms.base import DATE_MESSAGES, TIME_MESSAGES


class WaitlistForm(forms.Form):
    """A patient waiting for a service (one doctor or any), between two dates (today and two weeks on
    by default), optionally within times of day."""

    patient = forms.CharField(required=False)
    service = forms.CharField(required=False)
    doctor = forms.CharField(required=False)
    date_from = forms.DateField(required=False, error_messages=DATE_MESSAGES)
    date_to = forms.DateField(required=False, error_messages=DATE_MESSAGES)
    time_from = forms.TimeField(required=False, error_messages=TIME_MESSAGES)
    time_to = forms.TimeField(required=False, error_messages=TIME_MESSAGES)
    notes = forms.CharField(required=False, strip=False)
