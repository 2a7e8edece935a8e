"""Forms of the marketing pages: an offer, a coupon batch, an audience (its filters), a campaign with its
variants, a calendar event and a product document's part. They parse input only; every rule is the
services' (their refusal is shown on the field it names)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clinicflow.catalogue.models import Product, ProductLine, Service, ServiceCategory
from clinicflow.core.models import Branch, Organization
from clinicflow.marketing.models import Audience, CampaignChannel, Offer, OfferKind, PatientKind
from clinicflow.marketing.models.calendar import EventKind, EventStatus
from clinicflow.marketing.models.documents import Department, PartStatus
from clinicflow.patients.models import Sex, Source

DATE = forms.DateInput(attrs={"type": "date"})


def _org_choices(model: Any, org: Organization, label: str = "name") -> list[tuple[str, str]]:
    return [(str(o.pk), str(getattr(o, label))) for o in model.objects.for_org(org).order_by(label)]


class OfferForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=OfferKind.choices)
    valid_from = forms.DateField(label=_("Valid from"), widget=DATE)
    valid_to = forms.DateField(label=_("Valid until"), widget=DATE)
    percent = forms.DecimalField(label=_("Discount, %"), required=False, decimal_places=2)
    amount = forms.DecimalField(label=_("Discount amount"), required=False, decimal_places=2)
    addon_service = forms.ChoiceField(label=_("Free add-on service"), required=False)
    product = forms.ChoiceField(label=_("Packaged product (bundle)"), required=False)
    branches = forms.MultipleChoiceField(
        label=_("Branches"), required=False, help_text=_("None chosen: every branch.")
    )
    services = forms.MultipleChoiceField(
        label=_("Services"), required=False, help_text=_("None chosen: every service.")
    )
    patient_kind = forms.ChoiceField(label=_("For"), choices=PatientKind.choices, initial="any")
    per_patient_limit = forms.IntegerField(label=_("Uses per patient"), initial=1)
    total_limit = forms.IntegerField(label=_("Uses in all"), required=False)

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        services = [(str(s.pk), s.display_name) for s in Service.objects.for_org(org).filter(is_active=True)]
        self.fields["addon_service"].choices = [("", "—"), *services]  # type: ignore[attr-defined]
        self.fields["services"].choices = services  # type: ignore[attr-defined]
        self.fields["product"].choices = [("", "—"), *_org_choices(Product, org)]  # type: ignore[attr-defined]
        self.fields["branches"].choices = _org_choices(Branch, org)  # type: ignore[attr-defined]


class CouponBatchForm(forms.Form):
    count = forms.IntegerField(label=_("How many single-use codes"), initial=100)


class AudienceForm(forms.Form):
    """The filters of ``selectors.audiences.FIELDS`` as form fields; empty ones are left out."""

    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    last_visit_before_days = forms.IntegerField(label=_("No visit in the last N days"), required=False)
    last_visit_within_days = forms.IntegerField(label=_("A visit in the last N days"), required=False)
    had_services = forms.CharField(
        label=_("Had services"), required=False, help_text=_("Service codes, separated by commas.")
    )
    not_had_services = forms.CharField(
        label=_("Never had services"), required=False, help_text=_("Service codes, separated by commas.")
    )
    age_min = forms.IntegerField(label=_("Age from"), required=False)
    age_max = forms.IntegerField(label=_("Age to"), required=False)
    sex = forms.ChoiceField(label=_("Sex"), required=False, choices=[("", "—"), *Sex.choices])
    branch = forms.ChoiceField(label=_("Branch"), required=False)
    source = forms.MultipleChoiceField(
        label=_("Channel of acquisition"), required=False, choices=Source.choices
    )
    p_alive_min = forms.FloatField(label=_("P(alive) at least"), required=False)
    p_alive_max = forms.FloatField(label=_("P(alive) at most"), required=False)
    clv_min = forms.DecimalField(label=_("Lifetime value at least"), required=False)
    clv_max = forms.DecimalField(label=_("Lifetime value at most"), required=False)
    recall_category = forms.ChoiceField(
        label=_("Recall: category"), required=False, choices=[("", "—"), *ServiceCategory.choices]
    )
    recall_after_days = forms.IntegerField(label=_("Recall: more than N days ago"), required=False)
    channel = forms.ChoiceField(
        label=_("Only with consent for"), required=False, choices=[("", "—"), *CampaignChannel.choices]
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].choices = [("", "—"), *_org_choices(Branch, org)]  # type: ignore[attr-defined]

    def filters(self) -> dict[str, Any]:
        """The filled filters as the audience's dict (numbers as numbers, codes as lists)."""
        out: dict[str, Any] = {}
        for name, value in self.cleaned_data.items():
            if name == "name" or value in (None, "", []):
                continue
            if name in ("had_services", "not_had_services"):
                value = [c.strip() for c in str(value).split(",") if c.strip()]
            elif name in ("clv_min", "clv_max"):
                value = str(value)
            out[name] = value
        return out


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    audience = forms.ChoiceField(label=_("Audience"))
    channel = forms.ChoiceField(label=_("Channel"), choices=CampaignChannel.choices)
    offer = forms.ChoiceField(label=_("Offer"), required=False)
    holdout_percent = forms.IntegerField(label=_("Holdout, %"), initial=10)
    cost = forms.DecimalField(label=_("Cost"), initial=0, decimal_places=2)
    branch = forms.ChoiceField(label=_("Fill the free hours of branch"), required=False)
    service = forms.ChoiceField(label=_("Fill the free hours of service"), required=False)
    days_ahead = forms.IntegerField(label=_("Over the next N days"), initial=0)
    per_minute = forms.IntegerField(label=_("Messages per minute"), initial=200)
    headline_a = forms.CharField(label=_("Variant A: headline"), max_length=120)
    text_a = forms.CharField(
        label=_("Variant A: text"), max_length=600, widget=forms.Textarea(attrs={"rows": 2})
    )
    headline_b = forms.CharField(label=_("Variant B: headline"), max_length=120, required=False)
    text_b = forms.CharField(
        label=_("Variant B: text"), max_length=600, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["audience"].choices = _org_choices(Audience, org)  # type: ignore[attr-defined]
        self.fields["offer"].choices = [("", "—"), *_org_choices(Offer, org)]  # type: ignore[attr-defined]
        self.fields["branch"].choices = [("", "—"), *_org_choices(Branch, org)]  # type: ignore[attr-defined]
        services = [(str(s.pk), s.display_name) for s in Service.objects.for_org(org).filter(is_active=True)]
        self.fields["service"].choices = [("", "—"), *services]  # type: ignore[attr-defined]


class EventForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=EventKind.choices)
    starts_on = forms.DateField(label=_("Starts on"), widget=DATE)
    ends_on = forms.DateField(label=_("Ends on"), widget=DATE)
    branch = forms.ChoiceField(label=_("Branch"), required=False)
    line = forms.ChoiceField(label=_("Product line"), required=False)
    owner = forms.CharField(label=_("Owner"), max_length=200, required=False)
    budget = forms.DecimalField(label=_("Budget"), initial=0, decimal_places=2)
    actual_cost = forms.DecimalField(label=_("Actual cost"), initial=0, decimal_places=2)
    channel = forms.CharField(label=_("Channel"), max_length=40, required=False)
    audience = forms.ChoiceField(label=_("Audience"), required=False)
    offer = forms.ChoiceField(label=_("Offer"), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=EventStatus.choices, initial="planned")

    def __init__(self, *args: Any, org: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, model in (
            ("branch", Branch),
            ("line", ProductLine),
            ("audience", Audience),
            ("offer", Offer),
        ):
            self.fields[name].choices = [("", "—"), *_org_choices(model, org)]  # type: ignore[attr-defined]


class UsualDatesForm(forms.Form):
    region = forms.ChoiceField(label=_("Region"), choices=[("RU", "RU"), ("CN", "CN"), ("EU", "EU")])
    year = forms.IntegerField(label=_("Year"))


class PartForm(forms.Form):
    body = forms.CharField(
        label=_("Text"), max_length=20000, required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    owner = forms.ChoiceField(label=_("Owner department"), choices=Department.choices)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            (PartStatus.DRAFT, PartStatus.DRAFT.label),
            (PartStatus.REVIEWED, PartStatus.REVIEWED.label),
        ],
    )
