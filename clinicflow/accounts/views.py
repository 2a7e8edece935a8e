"""Sign-in pages: login, logout, the login lockout answer and two-factor enrolment and verification."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from clinicflow.accounts import mfa
from clinicflow.accounts.models import User
from clinicflow.core.access import public_view
from clinicflow.core.errors import error_body


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail"), max_length=254, widget=forms.EmailInput(attrs={"autofocus": True})
    )
    error_messages = {
        "invalid_login": _("Wrong e-mail or password."),
        "inactive": _("Wrong e-mail or password."),
    }


class MfaCodeForm(forms.Form):
    """The one-time code from the authenticator app (``mfa.verify`` checks its shape and value)."""

    token = forms.CharField(required=False, strip=True)


def lockout_response(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """What django-axes answers a locked-out login: the API's error shape or the lockout page."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body("too_many_requests", "too many failed attempts; try again later"), status=429
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


def _signed_in(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


def _mfa_form(
    request: HttpRequest,
    user: User,
    *,
    template: str,
    enrolling: bool,
    invalid: Promise,
    context: Callable[[], dict[str, Any]],
) -> HttpResponse:
    """Show the code form; a valid code signs the session in with two factors and goes home."""
    error = ""
    if request.method == "POST":
        form = MfaCodeForm(request.POST)
        token = form.cleaned_data["token"] if form.is_valid() else ""
        if mfa.verify(request, user, token, enrolling=enrolling):
            return redirect("home")
        error = str(invalid)
    return render(request, template, {**context(), "error": error}, status=422 if error else 200)


@public_view
def mfa_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: show the QR code, confirm with a first code."""
    user = _signed_in(request)
    if user is None:
        return redirect_to_login(request.get_full_path())
    device = mfa.pending_device(user)
    return _mfa_form(
        request,
        user,
        template="accounts/mfa_setup.html",
        enrolling=True,
        invalid=_("The code is not valid. Check the time on your phone and try again."),
        context=lambda: {"qr": mfa.qr_svg_data_uri(device), "secret_uri": device.config_url},
    )


@public_view
def mfa_verify(request: HttpRequest) -> HttpResponse:
    user = _signed_in(request)
    if user is None:
        return redirect_to_login(request.get_full_path())
    return _mfa_form(
        request,
        user,
        template="accounts/mfa_verify.html",
        enrolling=False,
        invalid=_("The code is not valid or was already used."),
        context=dict,
    )
