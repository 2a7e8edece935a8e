"""Forms of the integrations pages. They only check shapes; services check the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clinicflow.acquisition.forms import limit_choices, org_branches
from clinicflow.acquisition.models import Provider, WebhookStatus
from clinicflow.core.models import Branch, Organization


class IntegrationForm(forms.Form):
    provider = forms.ChoiceField(label=_("Provider"), choices=Provider.choices)
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    signing_key = forms.CharField(
        label=_("Signing key"),
        max_length=200,
        required=False,
        help_text=_("Optional. CallRail's signing key, or your own key for signed generic webhooks."),
    )
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=Branch.objects.none(), required=False)

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, branch=org_branches(org=org))


class DeadLetterFilterForm(forms.Form):
    status = forms.ChoiceField(choices=WebhookStatus.choices, required=False)

    def status_or_dead(self) -> str:
        """The chosen status; the dead ones when none or an unknown one is asked for."""
        return (self.cleaned_data.get("status") if self.is_valid() else "") or WebhookStatus.DEAD
