"""Forms of a doctor's schedule page: the working week, the services, a dated exception."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from clinicflow.booking.forms.base import DATE_MESSAGES, TIME_MESSAGES, IdListField
from clinicflow.booking.models import ExceptionKind
from clinicflow.core.errors import ValidationFailed

Week = dict[int, list[tuple[dt.time, dt.time]]]


class WeekForm(forms.Form):
    """Hours and one break per weekday (``start_0``..``end_6``, ``break_start_0``..``break_end_6``);
    a day with either time missing is a day off (or a day without a break)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for wd in range(7):
            for name in ("start", "end", "break_start", "break_end"):
                self.fields[f"{name}_{wd}"] = forms.TimeField(required=False, error_messages=TIME_MESSAGES)

    def week(self) -> tuple[Week, Week]:
        """(weekday -> hours, weekday -> breaks); a bad time is a 422 naming ``hours`` or ``breaks``."""
        if not self.is_valid():
            name, errors = next(iter(self.errors.items()))
            raise ValidationFailed.field("breaks" if name.startswith("break") else "hours", str(errors[0]))
        data = self.cleaned_data
        hours: Week = {}
        breaks: Week = {}
        for wd in range(7):
            s, e = data.get(f"start_{wd}"), data.get(f"end_{wd}")
            if s and e:
                hours[wd] = [(s, e)]
            bs, be = data.get(f"break_start_{wd}"), data.get(f"break_end_{wd}")
            if bs and be:
                breaks[wd] = [(bs, be)]
        return hours, breaks


class ServicesForm(forms.Form):
    services = IdListField(required=False)


class ExceptionForm(forms.Form):
    date = forms.DateField(error_messages=DATE_MESSAGES)
    kind = forms.CharField(required=False)
    start_time = forms.TimeField(required=False, error_messages=TIME_MESSAGES)
    end_time = forms.TimeField(required=False, error_messages=TIME_MESSAGES)
    reason = forms.CharField(required=False, strip=False)

    def clean_kind(self) -> str:
        return str(self.cleaned_data.get("kind") or ExceptionKind.CLOSED)
