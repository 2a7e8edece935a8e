"""Forms of the packaged-product pages: a product line, and a packaged product with its services (one
row per service: the service and its sessions)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clinicflow.catalogue.models import Product, ProductLine, Service, ServiceCategory
from clinicflow.catalogue.product_services import ItemIn
from clinicflow.core.models import Organization
from clinicflow.core.money import CURRENCIES

ITEM_ROWS = 6


class LineForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=60)
    name = forms.CharField(label=_("Name"), max_length=200)
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", "—"), *ServiceCategory.choices]
    )


class ProductForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=60)
    name = forms.CharField(label=_("Name"), max_length=200)
    line = forms.ChoiceField(label=_("Product line"), required=False)
    price = forms.DecimalField(label=_("Package price"), min_value=0, decimal_places=2)
    currency = forms.ChoiceField(label=_("Currency"), choices=[(c, c) for c in CURRENCIES])
    valid_days = forms.IntegerField(label=_("Days to use the package"), initial=365)
    is_active = forms.BooleanField(label=_("On sale"), required=False, initial=True)

    def __init__(self, *args: Any, org: Organization, product: Product | None = None, **kwargs: Any) -> None:
        initial: dict[str, Any] = {"currency": org.currency, "is_active": True}
        if product is not None:
            initial.update(
                code=product.code, name=product.name, line=str(product.line_id or ""), price=product.price,
                currency=product.currency, valid_days=product.valid_days, is_active=product.is_active,
            )  # fmt: skip
            for i, item in enumerate(product.items.all()):
                initial[f"service_{i}"] = str(item.service_id)
                initial[f"sessions_{i}"] = item.sessions
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        lines = [(str(x.pk), x.name) for x in ProductLine.objects.for_org(org).order_by("name")]
        self.fields["line"].choices = [("", "—"), *lines]  # type: ignore[attr-defined]
        services = [
            ("", "—"),
            *((str(s.pk), s.display_name) for s in Service.objects.for_org(org).filter(is_active=True)),
        ]
        for i in range(ITEM_ROWS):
            self.fields[f"service_{i}"] = forms.ChoiceField(
                label=_("Service %(n)s") % {"n": i + 1}, required=False, choices=services
            )
            self.fields[f"sessions_{i}"] = forms.IntegerField(
                label=_("Sessions"), required=False, min_value=1, initial=1
            )
        if product is not None:
            self.fields["code"].disabled = True

    def items(self) -> list[ItemIn]:
        out = []
        for i in range(ITEM_ROWS):
            service = self.cleaned_data.get(f"service_{i}")
            if service:
                out.append(ItemIn(service_id=service, sessions=self.cleaned_data.get(f"sessions_{i}") or 1))
        return out
