"""What the booking forms share: lenient id lists, branch-local times, errors as domain errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from clinicflow.booking.availability import local_dt
from clinicflow.core.errors import ValidationFailed

DATE_MESSAGES = {"invalid": "must be a date as YYYY-MM-DD", "required": "is required"}
TIME_MESSAGES = {"invalid": "must be a time as HH:MM", "required": "is required"}


def cleaned(form: forms.Form) -> dict[str, Any]:
    """The form's cleaned data; otherwise its error for the whole form, else its first field's error
    naming the field, as ``ValidationFailed``."""
    if form.is_valid():
        return form.cleaned_data
    if NON_FIELD_ERRORS in form.errors:
        raise ValidationFailed(str(form.errors[NON_FIELD_ERRORS][0]))
    name, errors = next(iter(form.errors.items()))
    raise ValidationFailed.field(name, str(errors[0]))


class IdListField(forms.Field):
    """Several ids (checkboxes or a multiple select) as strings; blanks dropped. Unknown ids are left
    to the caller, which keeps only the ones it finds."""

    widget = forms.SelectMultiple

    def to_python(self, value: Any) -> list[str]:
        return [str(v).strip() for v in value or [] if str(v).strip()]


class WeekdaysField(forms.Field):
    """Weekdays (0 = Monday) from a multiple select; anything else is ignored (an "any day" choice)."""

    widget = forms.SelectMultiple

    def to_python(self, value: Any) -> list[int]:
        return [int(w) for w in value or [] if str(w).isdigit() and int(w) in range(7)]


class LocalDateTimeField(forms.CharField):
    """A ``datetime-local`` value (``YYYY-MM-DDTHH:MM``); ``cleaned`` gives it naive, to be read on
    the branch's wall clock with ``on_branch_clock``."""

    default_error_messages = {"invalid": "must be a date and time", "required": "must be a date and time"}

    def to_python(self, value: Any) -> dt.datetime | None:  # type: ignore[override]  # a datetime, not a str
        text = str(value or "").strip()
        if not text:
            return None
        try:
            return dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc


def on_branch_clock(value: dt.datetime, tz: Any) -> dt.datetime:
    """A naive wall-clock time read in the branch's zone (an aware value is kept as it is)."""
    if value.tzinfo is not None:
        return value
    return local_dt(value.date(), value.time(), tz)
