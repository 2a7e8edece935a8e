"""Pages of the webhooks app: subscriptions (list, new, one with its secret and deliveries; toggle,
delete) and the delivery log with replay. ``webhooks.manage`` (owner, clinic manager)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.core.errors import DomainError
from clinicflow.core.web import get_or_404
from clinicflow.webhooks import selectors, services
from clinicflow.webhooks.models import DeliveryStatus, Event, Subscription
from clinicflow.webhooks.signing import HEADER

PERM = "webhooks.manage"


class SubscriptionForm(forms.Form):
    url = forms.CharField(label=gettext_lazy("URL"), max_length=500)
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"), choices=Event.choices, widget=forms.CheckboxSelectMultiple
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=200, required=False)


def _subscription(request: AuthedRequest, subscription_id: str) -> Subscription:
    return get_or_404(selectors.subscription_get, org=request.org, subscription_id=subscription_id)


@require_http_methods(["GET", "POST"])
@require_perm(PERM)
def subscription_list(request: AuthedRequest) -> HttpResponse:
    form = SubscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            row = services.subscription_create(
                org=request.org,
                actor=request.user,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
                request=request,
            )
        except DomainError as exc:
            for name, errors in exc.fields.items():
                form.add_error(name if name in form.fields else None, "; ".join(errors))
        else:
            messages.success(request, _("Subscription saved."))
            return redirect("webhooks:subscription", subscription_id=row.pk)
    ctx = {"rows": selectors.subscription_list(org=request.org), "form": form}
    return render(request, "webhooks/list.html", ctx, status=422 if form.errors else 200)


@require_GET
@require_perm(PERM, audit_object="webhook_subscription")
def subscription_detail(request: AuthedRequest, subscription_id: str) -> HttpResponse:
    sub = _subscription(request, subscription_id)
    deliveries = selectors.delivery_list(org=request.org, subscription=sub, limit=100)
    ctx = {"sub": sub, "deliveries": deliveries, "header": HEADER}
    return render(request, "webhooks/detail.html", ctx)


@require_POST
@require_perm(PERM, audit_object="webhook_subscription")
def subscription_toggle(request: AuthedRequest, subscription_id: str) -> HttpResponse:
    sub = _subscription(request, subscription_id)
    services.subscription_update(
        org=request.org,
        actor=request.user,
        subscription=sub,
        changes={"is_active": not sub.is_active},
        request=request,
    )
    return redirect("webhooks:subscription", subscription_id=sub.pk)


@require_POST
@require_perm(PERM, audit_object="webhook_subscription")
def subscription_delete(request: AuthedRequest, subscription_id: str) -> HttpResponse:
    sub = _subscription(request, subscription_id)
    services.subscription_delete(org=request.org, actor=request.user, subscription=sub, request=request)
    messages.success(request, _("Subscription deleted."))
    return redirect("webhooks:subscriptions")


@require_GET
@require_perm(PERM)
def delivery_list(request: AuthedRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    status = status if status in DeliveryStatus.values else ""
    rows = selectors.delivery_list(org=request.org, status=status)
    return render(
        request,
        "webhooks/deliveries.html",
        {"rows": rows, "status": status, "statuses": DeliveryStatus.choices},
    )


@require_POST
@require_perm(PERM, audit_object="webhook_delivery")
def delivery_replay(request: AuthedRequest, delivery_id: str) -> HttpResponse:
    delivery = get_or_404(selectors.delivery_get, org=request.org, delivery_id=delivery_id)
    services.delivery_replay(org=request.org, actor=request.user, delivery=delivery, request=request)
    messages.success(request, _("Delivery queued again."))
    return redirect("webhooks:deliveries")
