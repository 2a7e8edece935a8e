"""Forms of the breach register: an incident, a deadline's "done" record, the affected-patients query.
Times are typed on the clock of the register's branch (the view activates its zone)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clinicflow.accounts.models import User
from clinicflow.privacy.jurisdictions import RULES
from clinicflow.privacy.models import DataCategory, Incident, IncidentStatus, Jurisdiction
from clinicflow.privacy.services import MAX_WINDOW, IncidentDetails

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def _when(label: Any, *, required: bool = True) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class IncidentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    discovered_at = _when(_("Discovered at"))
    occurred_from = _when(_("Occurred from"), required=False)
    occurred_to = _when(_("Occurred until"), required=False)
    facts = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 5}))
    effects = forms.CharField(
        label=_("Likely consequences"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    remedial_actions = forms.CharField(
        label=_("Remedial actions"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    status = forms.ChoiceField(label=_("Status"), choices=IncidentStatus.choices, initial=IncidentStatus.OPEN)
    data_categories = forms.MultipleChoiceField(
        label=_("Categories of data"),
        choices=DataCategory.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    jurisdictions = forms.MultipleChoiceField(
        label=_("Jurisdictions"),
        choices=Jurisdiction.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The laws whose notification deadlines apply. Derived from the organisation's country."),
    )

    def __init__(self, *args: Any, incident: Incident | None = None, **kwargs: Any) -> None:
        if incident is not None:
            kwargs.setdefault("initial", {name: getattr(incident, name) for name in self.base_fields})
        super().__init__(*args, **kwargs)

    def details(self) -> IncidentDetails:
        return IncidentDetails.from_mapping(self.cleaned_data)


class DeadlineDoneForm(forms.Form):
    kind = forms.ChoiceField(choices=[(r.kind, r.label) for r in RULES], widget=forms.HiddenInput)
    done_at = _when(_("Notified at"))
    reference = forms.CharField(label=_("Reference"), max_length=200, required=False)


class AffectedQueryForm(forms.Form):
    subject = forms.ChoiceField(label=_("Staff user"))
    start = _when(_("From"))
    end = _when(_("Until"))

    def __init__(self, *args: Any, staff: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.staff = {str(u.pk): u for u in staff}
        field = self.fields["subject"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "—"), *((str(u.pk), f"{u.email} ({u.get_role_display()})") for u in staff)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and not start < end <= start + MAX_WINDOW:
            self.add_error(
                "end",
                _("Must be after the start and at most %(days)s days later.") % {"days": MAX_WINDOW.days},
            )
        return data

    def subject_user(self) -> User:
        return self.staff[self.cleaned_data["subject"]]
