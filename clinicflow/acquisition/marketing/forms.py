"""Forms of the marketer's pages: channels, campaigns, ad spend and its import. They only check
shapes; services check the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clinicflow.acquisition.forms import limit_choices, org_branches, set_choices
from clinicflow.acquisition.marketing import selectors
from clinicflow.acquisition.marketing.spend_import import TARGETS
from clinicflow.acquisition.models import Campaign, Channel, ChannelCode, ChannelKind
from clinicflow.core.models import Branch, Organization
from clinicflow.core.names import LANG_FIELDS, names_from_fields

DATE = {"type": "date"}


class ChannelNamesForm(forms.Form):
    """The channel's name in the interface languages, beside its own name (all optional)."""

    name_en = forms.CharField(label=_("Name in English"), max_length=100, required=False)
    name_ru = forms.CharField(label=_("Name in Russian"), max_length=100, required=False)
    name_zh_hans = forms.CharField(label=_("Name in Chinese"), max_length=100, required=False)

    def channel_data(self) -> dict[str, Any]:
        """The cleaned data for the channel services: the translations as ``name_i18n``."""
        data = {k: v for k, v in self.cleaned_data.items() if k not in LANG_FIELDS.values()}
        return {**data, "name_i18n": names_from_fields(self.cleaned_data)}


class ChannelCreateForm(ChannelNamesForm):
    code = forms.ChoiceField(label=_("Type"), choices=())
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=ChannelKind.choices)
    field_order = ["code", "name", "name_en", "name_ru", "name_zh_hans", "kind"]

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        taken = selectors.channel_codes(org=org)
        set_choices(self, code=[c for c in ChannelCode.choices if c[0] not in taken])


class ChannelEditForm(ChannelNamesForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=ChannelKind.choices)
    field_order = ["name", "name_en", "name_ru", "name_zh_hans", "kind"]


class CampaignForm(forms.Form):
    channel = forms.ModelChoiceField(label=_("Channel"), queryset=Channel.objects.none())
    name = forms.CharField(label=_("Name"), max_length=200)
    utm_source = forms.CharField(label=_("utm_source"), max_length=100, required=False)
    utm_medium = forms.CharField(label=_("utm_medium"), max_length=100, required=False)
    utm_campaign = forms.CharField(label=_("utm_campaign"), max_length=200, required=False)
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=Branch.objects.none(), required=False)
    starts_on = forms.DateField(label=_("Starts on"), required=False, widget=forms.DateInput(attrs=DATE))
    ends_on = forms.DateField(label=_("Ends on"), required=False, widget=forms.DateInput(attrs=DATE))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(self, channel=selectors.channels(org=org), branch=org_branches(org=org))


class SpendFilterForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs=DATE))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs=DATE))
    channel = forms.ModelChoiceField(
        label=_("Channel"),
        queryset=Channel.objects.none(),
        required=False,
        empty_label=_("All channels"),
    )
    campaign = forms.ModelChoiceField(
        label=_("Campaign"),
        queryset=Campaign.objects.none(),
        required=False,
        empty_label=_("All campaigns"),
    )
    branch = forms.ModelChoiceField(
        label=_("Branch"),
        queryset=Branch.objects.none(),
        required=False,
        empty_label=_("All branches"),
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_choices(
            self,
            channel=selectors.channels(org=org),
            campaign=selectors.campaigns(org=org),
            branch=org_branches(org=org),
        )


class SpendUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or XLSX file"),
        help_text=_("Columns: date, channel, campaign, spend, impressions, clicks. At most 5 MB."),
    )


class SpendMappingForm(forms.Form):
    """One select per target field listing the file's header names."""

    def __init__(self, *args: Any, headers: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("— not in the file —"))] + [
            (str(i), h or _("(column %(n)s)") % {"n": i + 1}) for i, h in enumerate(headers)
        ]
        for target, label, required in TARGETS:
            self.fields[target] = forms.ChoiceField(label=label, choices=choices, required=required)

    def mapping(self) -> dict[str, int | None]:
        return {t: int(self.cleaned_data[t]) if self.cleaned_data.get(t) else None for t, _l, _r in TARGETS}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = [v for v in data.values() if v]
        if len(chosen) != len(set(chosen)):
            raise forms.ValidationError(_("Each column can be used for one field only."))
        return data


class SpendSaveForm(forms.Form):
    create_missing = forms.BooleanField(required=False)
