"""Forms of the public booking pages: the slot chosen, the patient's details, the code, the manage
link's cancel and move."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from clinicflow.booking.forms.base import cleaned
from clinicflow.booking.models import CodeChannel
from clinicflow.booking.services.public import Contact, parse_start
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.phones import InvalidPhone, normalize


class BranchPageForm(forms.Form):
    """The public page's choices so far: a service, a doctor (or any), the first day shown."""

    service = forms.CharField(required=False)
    doctor = forms.CharField(required=False)
    date = forms.DateField(required=False)

    def values(self) -> tuple[str, str, dt.date | None]:
        self.is_valid()
        data = self.cleaned_data
        return data.get("service") or "", data.get("doctor") or "", data.get("date")


class SlotForm(forms.Form):
    """The slot chosen on the public page (the start in UTC, as the page wrote it)."""

    service = forms.CharField(required=False)
    doctor = forms.CharField(required=False)
    start = forms.CharField(required=False)

    def slot(self) -> tuple[str, str, dt.datetime]:
        """(service id, doctor id, start); a 422 naming ``start`` for an unknown time."""
        data = cleaned(self)
        return data["service"], data["doctor"], parse_start(data["start"])


class DetailsForm(forms.Form):
    """The patient's names and a phone or an e-mail for the code (by SMS or e-mail)."""

    first_name = forms.CharField(required=False)
    last_name = forms.CharField(required=False)
    phone = forms.CharField(required=False)
    email = forms.CharField(required=False)
    channel = forms.CharField(required=False)

    def __init__(self, *args: Any, country: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country = country

    def clean_first_name(self) -> str:
        value = str(self.cleaned_data.get("first_name") or "")[:100]
        if not value:
            raise ValidationError(_("Please enter your first name."))
        return value

    def clean_last_name(self) -> str:
        value = str(self.cleaned_data.get("last_name") or "")[:100]
        if not value:
            raise ValidationError(_("Please enter your last name."))
        return value

    def clean_phone(self) -> str:
        raw = str(self.data.get("phone", ""))
        if not raw.strip():
            return ""
        try:
            return normalize(raw[:40], self.country)
        except InvalidPhone as exc:
            raise ValidationError(_("This phone number does not look right.")) from exc

    def clean_email(self) -> str:
        value = str(self.cleaned_data.get("email") or "").lower()[:254]
        if value:
            try:
                validate_email(value)
            except ValidationError as exc:
                raise ValidationError(
                    _("“%(value)s” does not look like an e-mail address."), params={"value": value}
                ) from exc
        return value

    def clean_channel(self) -> str:
        channel = self.cleaned_data.get("channel") or CodeChannel.SMS
        return channel if channel in CodeChannel.values else CodeChannel.SMS

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        channel = data.get("channel")
        if channel == CodeChannel.SMS and not data.get("phone") and "phone" not in self.errors:
            self.add_error("phone", _("Enter a phone number to receive the code by SMS."))
        if channel == CodeChannel.EMAIL and not data.get("email") and "email" not in self.errors:
            self.add_error("email", _("Enter an e-mail address to receive the code by e-mail."))
        return data

    def messages(self) -> dict[str, str]:
        """Field -> its first error, as the page shows them."""
        return {name: str(errors[0]) for name, errors in self.errors.items()}

    def contact(self) -> Contact:
        data = self.cleaned_data
        return Contact(
            first_name=data["first_name"],
            last_name=data["last_name"],
            phone=data["phone"],
            email=data["email"],
            channel=data["channel"],
        )


class CodeForm(forms.Form):
    code = forms.CharField(required=False)


class PatientCancelForm(forms.Form):
    reason = forms.CharField(required=False)


class PatientMoveForm(forms.Form):
    start = forms.CharField(required=False)

    def start_at(self) -> dt.datetime | None:
        """The start chosen, or None when it is not a time the page wrote."""
        try:
            return parse_start(cleaned(self)["start"])
        except ValidationFailed:
            return None
