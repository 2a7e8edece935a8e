from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from clinicflow.core.access import public_view


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail"), max_length=254, widget=forms.EmailInput(attrs={"autofocus": True})
    )
    error_messages = {
        "invalid_login": _("Wrong e-mail or password."),
        "inactive": _("Wrong e-mail or password."),
    }


def lockout_response(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    if request.path.startswith("/api/"):
        import json

        from clinicflow.core.errors import error_body

        return HttpResponse(
            json.dumps(error_body("too_many_requests", "too many failed attempts; try again later")),
            status=429,
            content_type="application/json",
        )
    return render(request, "accounts/locked.html", status=429)


login_view = public_view(
    auth_views.LoginView.as_view(
        template_name="accounts/login.html", authentication_form=LoginForm, redirect_authenticated_user=True
    )
)


@public_view
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    return auth_views.LogoutView.as_view()(request)
