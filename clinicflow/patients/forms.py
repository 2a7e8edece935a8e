from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clinicflow.core.models import Branch, Organization
from clinicflow.patients.models import LANGUAGE_CHOICES, ConsentMethod, ConsentPurpose, Sex, Source


class PatientForm(forms.Form):
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    first_name = forms.CharField(label=_("First name"), max_length=100)
    middle_name = forms.CharField(label=_("Middle name"), max_length=100, required=False)
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, initial=Sex.UNKNOWN)
    birth_date = forms.DateField(
        label=_("Birth date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    phones = forms.CharField(
        label=_("Phones"),
        required=False,
        max_length=200,
        help_text=_("One or more numbers, separated by commas, in any format."),
    )
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    preferred_language = forms.ChoiceField(label=_("Preferred language"), choices=LANGUAGE_CHOICES)
    source = forms.ChoiceField(label=_("Source"), choices=Source.choices, initial=Source.OTHER)
    branch = forms.ModelChoiceField(label=_("Home branch"), queryset=Branch.objects.none(), required=False)
    notes = forms.CharField(
        label=_("Administrative notes"), required=False, widget=forms.Textarea, max_length=10_000
    )
    clinical_notes = forms.CharField(
        label=_("Clinical notes"), required=False, widget=forms.Textarea, max_length=50_000
    )

    def __init__(self, *args: Any, org: Organization, clinical: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        branch = self.fields["branch"]
        assert isinstance(branch, forms.ModelChoiceField)  # declared above
        branch.queryset = Branch.objects.for_org(org)
        if not clinical:
            del self.fields["clinical_notes"]

    def phone_list(self) -> list[str]:
        raw = self.cleaned_data.get("phones") or ""
        return [p.strip() for p in raw.replace(";", ",").split(",") if p.strip()]


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Purpose"), choices=ConsentPurpose.choices)
    granted = forms.TypedChoiceField(
        label=_("Event"), choices=[("1", _("Granted")), ("0", _("Withdrawn"))], coerce=lambda v: v == "1"
    )
    method = forms.ChoiceField(label=_("How it was given"), choices=ConsentMethod.choices)
    evidence = forms.CharField(label=_("Evidence"), max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # the card shows the form in one line, without <label>s
            field.widget.attrs.setdefault("aria-label", field.label)


class MergeForm(forms.Form):
    """The duplicate card to merge into the one on the page."""

    merge_id = forms.UUIDField()
