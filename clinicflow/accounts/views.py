"""Sign-in pages: login, logout, the login lockout answer, two-factor enrolment, verification and
removal, and the password change. Once a user has a second factor, replacing or removing it and
changing the password need a session that passed it (``mfa.step_up_target``) and the password."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from clinicflow.accounts import mfa
from clinicflow.accounts.models import User
from clinicflow.accounts.reauth import (
    TOO_MANY,
    WRONG_PASSWORD,
    Recheck,
    password_recheck,
    reauth_failed,
    reauth_locked,
    reauth_refused,
)
from clinicflow.accounts.services import mfa_device_remove, user_set_password
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
    password = forms.CharField(required=False, strip=False)


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(required=False, strip=False)


def _recheck_error(result: Recheck) -> tuple[str, int]:
    """The page's error and status after a password re-check that did not pass."""
    if result is Recheck.LOCKED:
        return str(TOO_MANY), 429
    return str(WRONG_PASSWORD), 422


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
    password_required: bool = False,
) -> HttpResponse:
    """Show the code form; a valid code (and the password, when asked) signs the session in with two
    factors and goes home."""
    error, status = "", 200
    if request.method == "POST":
        form = MfaCodeForm(request.POST)
        data = form.cleaned_data if form.is_valid() else {"token": "", "password": ""}
        checked = password_recheck(request, user, data["password"]) if password_required else Recheck.OK
        if checked is not Recheck.OK:
            error, status = _recheck_error(checked)
        elif mfa.verify(request, user, data["token"], enrolling=enrolling):
            return redirect("home")
        else:
            error, status = str(invalid), 422
    page = {**context(), "error": error, "password_required": password_required}
    return render(request, template, page, status=status)


@public_view
def mfa_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: show the QR code, confirm with a first code. Replacing a confirmed
    device needs a session that passed it and the password."""
    user = _signed_in(request)
    if user is None:
        return redirect_to_login(request.get_full_path())
    replacing = mfa.confirmed_device(user) is not None
    if replacing and not mfa.session_verified(user):
        return redirect("accounts:mfa_verify")
    device = mfa.pending_device(user)
    return _mfa_form(
        request,
        user,
        template="accounts/mfa_setup.html",
        enrolling=True,
        invalid=_("The code is not valid. Check the time on your phone and try again."),
        context=lambda: {"qr": mfa.qr_svg_data_uri(device), "secret_uri": device.config_url},
        password_required=replacing,
    )


@public_view
@require_http_methods(["GET", "POST"])
def mfa_remove(request: HttpRequest) -> HttpResponse:
    """Remove the second factor: a session that passed it and the password again."""
    user = _signed_in(request)
    if user is None:
        return redirect_to_login(request.get_full_path())
    if mfa.confirmed_device(user) is None:
        return redirect("accounts:mfa_setup")
    if not mfa.session_verified(user):
        return redirect("accounts:mfa_verify")
    error, status = "", 200
    if request.method == "POST":
        form = PasswordConfirmForm(request.POST)
        password = form.cleaned_data["password"] if form.is_valid() else ""
        checked = password_recheck(request, user, password)
        if checked is Recheck.OK:
            mfa_device_remove(user=user, request=request)
            return redirect("accounts:mfa_setup")
        error, status = _recheck_error(checked)
    return render(request, "accounts/mfa_remove.html", {"error": error}, status=status)


@public_view
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """Change one's own password: the current one, and a session that passed the second factor.
    Every other session of the user ends and their API tokens are revoked; this one gets a new key."""
    user = _signed_in(request)
    if user is None:
        return redirect_to_login(request.get_full_path())
    target = mfa.step_up_target(user)
    if target is not None:
        return redirect(target)
    locked = request.method == "POST" and reauth_locked(request, user)
    if locked:
        reauth_refused(request, user)
        page = {"form": PasswordChangeForm(user), "error": str(TOO_MANY)}
        return render(request, "accounts/password_change.html", page, status=429)
    form = PasswordChangeForm(user, request.POST if request.method == "POST" else None)
    if form.is_bound and not form.is_valid() and "old_password" in form.errors:
        reauth_failed(request, user)
    if form.is_valid():
        user_set_password(
            actor=user,
            user=user,
            password=form.cleaned_data["new_password1"],
            request=request,
            keep_session_key=request.session.session_key,
        )
        update_session_auth_hash(request, user)
        return redirect("home")
    return render(
        request, "accounts/password_change.html", {"form": form}, status=422 if form.errors else 200
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
