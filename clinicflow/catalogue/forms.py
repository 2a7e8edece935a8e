"""Forms of the catalogue pages: a service (new or edited) and a price change from a date."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clinicflow.catalogue.models import RoomType, Service, ServiceCategory
from clinicflow.catalogue.services import MAX_PRICE, ServiceDetails
from clinicflow.core.models import Branch, Organization
from clinicflow.core.money import CURRENCIES, Money
from clinicflow.core.names import fields_from_names, names_from_fields


class ServiceForm(forms.Form):
    """A service's details; a new service also has its code and list price."""

    code = forms.SlugField(
        label=_("Code"), max_length=60, help_text=_("Unique in the organisation; cannot be changed later.")
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    name_en = forms.CharField(label=_("Name in English"), max_length=200, required=False)
    name_ru = forms.CharField(label=_("Name in Russian"), max_length=200, required=False)
    name_zh_hans = forms.CharField(label=_("Name in Chinese"), max_length=200, required=False)
    category = forms.ChoiceField(label=_("Category"), choices=ServiceCategory.choices)
    duration_minutes = forms.IntegerField(label=_("Duration, minutes"), min_value=1)
    buffer_minutes = forms.IntegerField(label=_("Buffer after, minutes"), min_value=0, initial=0)
    room_type = forms.ChoiceField(label=_("Room type"), choices=RoomType.choices)
    price = forms.DecimalField(label=_("List price"), min_value=0, max_value=MAX_PRICE, decimal_places=2)
    currency = forms.ChoiceField(label=_("Currency"), choices=[(c, c) for c in CURRENCIES])
    is_first_visit = forms.BooleanField(label=_("First-visit service"), required=False)
    course_sessions = forms.IntegerField(label=_("Sessions in a course"), min_value=1, initial=1)
    course_interval_days = forms.IntegerField(label=_("Days between sessions"), min_value=0, initial=0)
    follow_on_codes = forms.CharField(
        label=_("Follow-on services"),
        required=False,
        max_length=600,
        help_text=_("Codes of the services that usually follow, separated by commas."),
    )
    is_bookable_online = forms.BooleanField(label=_("Bookable online"), required=False, initial=True)

    def __init__(self, *args: Any, org: Organization, service: Service | None = None, **kwargs: Any) -> None:
        if service is not None:
            kwargs.setdefault("initial", self.initial_for(service))
        else:
            kwargs.setdefault("initial", {"currency": org.currency})
        super().__init__(*args, **kwargs)
        if service is not None:  # the code is fixed; the price changes through the price history
            for name in ("code", "price", "currency"):
                del self.fields[name]

    @staticmethod
    def initial_for(service: Service) -> dict[str, Any]:
        values: dict[str, Any] = {
            name: getattr(service, name)
            for name in ServiceDetails.__dataclass_fields__
            if name not in ("follow_on_codes", "name_i18n")
        }
        values["follow_on_codes"] = ", ".join(service.follow_on_codes)
        values.update(fields_from_names(service.name_i18n))
        return values

    def details(self) -> ServiceDetails:
        raw = self.cleaned_data.get("follow_on_codes") or ""
        codes = [c.strip() for c in raw.split(",") if c.strip()]
        names = names_from_fields(self.cleaned_data)
        values = {**self.cleaned_data, "follow_on_codes": codes, "name_i18n": names}
        return ServiceDetails.from_mapping(values)

    def money(self) -> Money:
        return Money(self.cleaned_data["price"], self.cleaned_data["currency"])


class PriceForm(forms.Form):
    """A new price from a date on, at one branch or at every branch without a price of its own."""

    price = forms.DecimalField(label=_("New price"), min_value=0, max_value=MAX_PRICE, decimal_places=2)
    valid_from = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    branch = forms.ModelChoiceField(
        label=_("Branch"), queryset=Branch.objects.none(), required=False, empty_label=_("All branches")
    )

    def __init__(self, *args: Any, org: Organization, today: dt.date, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"valid_from": today})
        super().__init__(*args, **kwargs)
        field = self.fields["branch"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Branch.objects.for_org(org).filter(is_active=True).order_by("name")

    def money(self, service: Service) -> Money:
        """The price in the chosen branch's currency (the service's for every branch)."""
        branch = self.cleaned_data.get("branch")
        currency = branch.currency if branch is not None else service.currency
        return Money(self.cleaned_data["price"], currency)
