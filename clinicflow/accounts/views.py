from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from clinicflow.accounts.models import User
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


@public_view
def mfa_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: show the QR code, confirm with a first code."""
    from django.contrib.auth.views import redirect_to_login
    from django.shortcuts import redirect

    from clinicflow.accounts import mfa

    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    device = mfa.pending_device(user)
    error = ""
    if request.method == "POST":
        if mfa.verify(request, user, request.POST.get("token", ""), enrolling=True):
            return redirect("home")
        error = str(_("The code is not valid. Check the time on your phone and try again."))
    return render(
        request,
        "accounts/mfa_setup.html",
        {"qr": mfa.qr_svg_data_uri(device), "secret_uri": device.config_url, "error": error},
        status=422 if error else 200,
    )


@public_view
def mfa_verify(request: HttpRequest) -> HttpResponse:
    from django.contrib.auth.views import redirect_to_login
    from django.shortcuts import redirect

    from clinicflow.accounts import mfa

    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    error = ""
    if request.method == "POST":
        if mfa.verify(request, user, request.POST.get("token", "")):
            return redirect("home")
        error = str(_("The code is not valid or was already used."))
    return render(request, "accounts/mfa_verify.html", {"error": error}, status=422 if error else 200)
