"""Forms of the tracking pages: tracking numbers and the website script's settings. They only check
shapes; services check the rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clinicflow.acquisition.forms import limit_choices, org_branches
from clinicflow.acquisition.marketing.selectors import campaigns
from clinicflow.acquisition.models import Campaign, LeadMatch, NumberPool
from clinicflow.core.models import Branch, Organization


class TrackingNumberForm(forms.Form):
    number = forms.CharField(
        label=_("Number"), max_length=40, help_text=_("Any format; the branch's country code is assumed.")
    )
    pool = forms.ChoiceField(label=_("Pool"), choices=NumberPool.choices)
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=Branch.objects.none(), required=False)
    campaign = forms.ModelChoiceField(
        label=_("Campaign (static numbers)"),
        queryset=Campaign.objects.none(),
        required=False,
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, branch=org_branches(org=org), campaign=campaigns(org=org))


class NumberActiveForm(forms.Form):
    """Switch a tracking number on (``active=1``) or off."""

    active = forms.ChoiceField(choices=[("1", "1"), ("0", "0")], required=False)

    def switched_on(self) -> bool:
        return self.is_valid() and self.cleaned_data["active"] == "1"


class TrackingSettingsForm(forms.Form):
    hold_minutes = forms.IntegerField(label=_("Number held after last activity (minutes)"), min_value=1)
    callback_minutes = forms.IntegerField(
        label=_("Callback deadline for missed calls (minutes)"), min_value=1
    )
    gross_margin = forms.DecimalField(
        label=_("Gross margin share used for ROMI"),
        max_digits=5,
        decimal_places=4,
        min_value=Decimal("0.0001"),
        max_value=Decimal(1),
    )
    allowed_origins = forms.CharField(
        label=_("Allowed website origins"),
        required=False,
        widget=forms.Textarea,
        max_length=5000,
        help_text=_("One per line, e.g. https://clinic.example. Empty: any website may use the key."),
    )
    default_branch = forms.ModelChoiceField(
        label=_("Default branch"),
        queryset=Branch.objects.none(),
        required=False,
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, default_branch=org_branches(org=org))


class LeadFilterForm(forms.Form):
    match = forms.ChoiceField(
        label=_("Patient match"), choices=[("", _("All leads")), *LeadMatch.choices], required=False
    )

    def match_or_all(self) -> str:
        return str(self.cleaned_data.get("match") or "") if self.is_valid() else ""
