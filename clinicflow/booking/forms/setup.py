"""Forms of the resources page: a doctor, a room, equipment, the branch's booking settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from clinicflow.booking.forms.base import IdListField

NUMBERS = {"invalid": "Numbers expected."}
NUMBER_FIELDS = ("online_cutoff", "horizon", "cancel_cutoff", "step")


class DoctorForm(forms.Form):
    full_name = forms.CharField(required=False, strip=False)
    specialty = forms.CharField(required=False, strip=False)
    is_consultant = forms.BooleanField(required=False)
    services = IdListField(required=False)


class RoomForm(forms.Form):
    name = forms.CharField(required=False, strip=False)
    room_type = forms.CharField(required=False)


class EquipmentForm(forms.Form):
    name = forms.CharField(required=False, strip=False)
    room = forms.CharField(required=False)


class SettingsForm(forms.Form):
    """Reminder offsets as a comma list of minutes (anything not a number is skipped), channels (both
    when none is ticked), online booking and its limits, the slot step."""

    reminders = forms.CharField(required=False)
    channels = IdListField(required=False)
    online = forms.BooleanField(required=False)
    online_cutoff = forms.IntegerField(required=False, error_messages=NUMBERS)
    horizon = forms.IntegerField(required=False, error_messages=NUMBERS)
    cancel_cutoff = forms.IntegerField(required=False, error_messages=NUMBERS)
    step = forms.IntegerField(required=False, error_messages=NUMBERS)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if any(name in self.errors for name in NUMBER_FIELDS):
            raise ValidationError(_("Numbers expected."))
        return data

    def clean_reminders(self) -> list[int]:
        text = str(self.cleaned_data.get("reminders") or "").replace(" ", "")
        return [int(x) for x in text.split(",") if x.isdigit()]

    def clean_channels(self) -> list[str]:
        return list(self.cleaned_data.get("channels") or ["sms", "email"])

    def clean_online_cutoff(self) -> int:
        return int(self.cleaned_data.get("online_cutoff") or 0)

    def clean_horizon(self) -> int:
        return int(self.cleaned_data.get("horizon") or 60)

    def clean_cancel_cutoff(self) -> int:
        return int(self.cleaned_data.get("cancel_cutoff") or 0)

    def clean_step(self) -> int:
        return int(self.cleaned_data.get("step") or 15)
